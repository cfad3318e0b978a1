declare const BTWEB_VERSION: string | undefined // replaced at build time

export const VERSION = typeof BTWEB_VERSION === 'string' ? BTWEB_VERSION : '0.0.0-dev'

export const HELP = `btweb ${VERSION} — a tiny browser for the BitTorrent web

Usage:
  btweb [url]                       open a window (on the start page, or on url)
  btweb open <url>                  the same
  btweb demo [--no-window]          run a private demo network and open its site
  btweb serve [--port N] [--cache-size 2G] [--no-seed]
                                    run the gateway only, for any browser
  btweb fetch <url> [-o file] [--timeout ms]
                                    print or save one file of a site
  btweb resolve <url> [--timeout ms]
                                    print the pointer a btpk:// key holds, as JSON
  btweb publish <dir> [--key name] [--salt s | --salt-hex h] [--once] [--json]
          [--include-hidden] [--grace seconds] [--republish-interval ms]
                                    publish a folder as a site and keep it alive
  btweb sites                       list the sites this data dir publishes
  btweb keygen [name]               create a key pair (never overwrites)
  btweb keys [list|export <name>|import <name> <file|->]
  btweb register [--magnet] | unregister
                                    make btweb the handler of btpk: links

Addresses:
  btpk://<key>/path                 key: 64 hex or 52 base32 characters
  btpk://<salt hex>.<key>/path      a salted site of that key
  magnet:?xs=urn:btpk:<hex>[&s=<salt hex>]
  bittorrent://<infohash>/path, magnet:?xt=urn:btih:<infohash>

Options for every command:
  --bootstrap host:port[,…]         DHT bootstrap nodes (default: the mainline
                                    routers; also $BTWEB_BOOTSTRAP)
  --data-dir dir                    state: keys, pointers, cache (default:
                                    $XDG_DATA_HOME/btweb; also $BTWEB_DATA_DIR)
  --bind addr                       address for DHT/torrent sockets (default 0.0.0.0)
  --utp                             uTP as well as TCP for peers (default: TCP only)
  -h, --help    -v, --version

Exit codes: 0 ok, 1 internal error, 2 bad argument or address, 3 no such site
or file, 4 network (no peers, timeout, DHT refused), 5 key or publish error,
6 no display, 130 interrupted.
`
