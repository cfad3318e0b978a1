#!/usr/bin/env python3
"""Reference BitTorrent peer built on libtorrent-rasterbar (python3-libtorrent 2.0.x).

Seed:
    python3 lt_seed.py --torrent FILE.torrent --save-path DIR [--port P] [--seed-mode] [--no-stdin]
    -> prints {"port":<tcp listen port>,"infohash":"<v1 hex>"} once seeding, then seeds until
       stdin closes or SIGTERM/SIGINT.

Download (reference downloader for benchmarks):
    python3 lt_seed.py --download <infohash-hex | magnet | FILE.torrent> --peer 127.0.0.1:PORT
                       --save-path DIR [--port P] [--timeout-ms N]
    -> prints {"done":true,"ms":N} when complete (ms counted from adding the torrent), exits 0.
       On failure {"done":false,"error":"..."} and exit 1.

Loopback only: DHT, LSD, UPnP, NAT-PMP off, uTP off (uTP on loopback is slow and erratic),
listening on 127.0.0.1 TCP.

libtorrent quirks noted here:
  - Debian's python3-libtorrent lives in /usr/lib/python3/dist-packages, which a pyenv/venv
    python3 earlier on PATH does not see; we add that directory as a fallback.
  - Without seed_mode the torrent is hash-checked first (state checking_files) and only then
    becomes seeding; if the data is missing it silently becomes a downloader instead, so we
    wait for is_seeding and fail if torrent_checked_alert arrives without it. With --seed-mode
    nothing is checked up front (pieces are verified as they are first uploaded).
  - Peers all on 127.0.0.1 need allow_multiple_connections_per_ip, and libtorrent's default
    auto-managed queueing may pause a torrent; we add it non-auto-managed.
  - Trackers and web seeds in a .torrent or magnet are used unless the add_torrent_params has
    override_trackers / override_web_seeds set (with empty lists): we set both, so nothing
    but the given peer is ever contacted.
  - The listen port is session.listen_port() (TCP); with port 0 it is OS-chosen.
  - connect_peer() right after add_torrent() only dials on the next session tick
    (tick_interval, 500 ms by default): we set 50 ms.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

try:
    import libtorrent as lt
except ImportError:  # pyenv/venv python without Debian's dist-packages on sys.path
    sys.path.append("/usr/lib/python3/dist-packages")
    import libtorrent as lt


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("lt_seed: %s\n" % msg)
    sys.stderr.flush()


def make_session(port):
    s = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_tcp": True,
        "enable_incoming_tcp": True,
        "dht_bootstrap_nodes": "",
        "allow_multiple_connections_per_ip": True,
        # the default 500 ms session tick delays the first peer connection by up to a tick:
        # a 3 MB loopback download took ~520 ms at 500 ms, ~125 ms at 50 ms
        "tick_interval": 50,
        # don't let libtorrent's choking/queueing or rate estimates get in the way on loopback
        "unchoke_slots_limit": -1,
        "active_downloads": -1,
        "active_seeds": -1,
        "active_limit": -1,
        "alert_mask": lt.alert_category.error | lt.alert_category.status | lt.alert_category.storage,
    }
    return lt.session(s)


def wait_stop_event(use_stdin):
    stop = threading.Event()

    def on_sig(_signo, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)
    if use_stdin:
        def watch():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch, daemon=True).start()
    return stop


def drain(ses, kind):
    """Pops alerts; raises on errors; returns True if an alert of type `kind` was seen."""
    seen = False
    for a in ses.pop_alerts():
        if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert, lt.listen_failed_alert)):
            raise RuntimeError(a.message())
        if isinstance(a, kind):
            seen = True
    return seen


def loopback_only(atp):
    """Drops trackers and web seeds from the torrent/magnet: only the given peer is contacted."""
    atp.trackers = []
    atp.url_seeds = []
    atp.flags = (atp.flags | lt.torrent_flags.override_trackers | lt.torrent_flags.override_web_seeds
                 | lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd)
    atp.flags = atp.flags & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused


def seed(args):
    stop = wait_stop_event(not args.no_stdin)
    ses = make_session(args.port)
    try:
        ti = lt.torrent_info(args.torrent)
    except RuntimeError as e:
        raise RuntimeError("cannot load %s: %s" % (args.torrent, e))
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = args.save_path
    loopback_only(atp)
    if args.seed_mode:
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    deadline = time.monotonic() + args.timeout_ms / 1000.0
    checked = False
    while True:
        checked = drain(ses, lt.torrent_checked_alert) or checked
        st = h.status()
        if st.is_seeding:
            break
        if st.errc.value() != 0:
            raise RuntimeError("torrent error: %s" % st.errc.message())
        if checked:
            # the hash check is over and we don't have every piece
            raise RuntimeError("data in %s does not match the torrent (progress %.3f)" % (args.save_path, st.progress))
        if time.monotonic() > deadline or stop.is_set():
            raise RuntimeError("timeout waiting for seeding state")
        ses.wait_for_alert(50)
    ih = str(h.info_hashes().v1) if hasattr(h, "info_hashes") else str(h.info_hash())
    emit({"port": ses.listen_port(), "infohash": ih})
    while not stop.is_set():
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                log(a.message())
    return 0


def download(args):
    stop = wait_stop_event(not args.no_stdin)
    ses = make_session(args.port)
    src = args.download
    if os.path.isfile(src):
        atp = lt.add_torrent_params()
        try:
            atp.ti = lt.torrent_info(src)
        except RuntimeError as e:
            raise RuntimeError("cannot load %s: %s" % (src, e))
    elif src.startswith("magnet:"):
        atp = lt.parse_magnet_uri(src)
    else:
        atp = lt.parse_magnet_uri("magnet:?xt=urn:btih:%s" % src)
    atp.save_path = args.save_path
    loopback_only(atp)
    t0 = time.monotonic()
    h = ses.add_torrent(atp)
    host, _, port = args.peer.rpartition(":")
    h.connect_peer((host, int(port)))
    last_connect = time.monotonic()
    deadline = t0 + args.timeout_ms / 1000.0
    while True:
        finished = drain(ses, lt.torrent_finished_alert)
        st = h.status()
        if finished or st.is_seeding or (st.is_finished and st.has_metadata and st.progress >= 1.0):
            break
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError("timeout (progress %.3f, peers %d)" % (st.progress, st.num_peers))
        if stop.is_set():
            raise RuntimeError("interrupted")
        if st.num_peers == 0 and now - last_connect > 1.0:
            h.connect_peer((host, int(port)))
            last_connect = now
        ses.wait_for_alert(20)
    ms = int((time.monotonic() - t0) * 1000)
    emit({"done": True, "ms": ms})
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torrent", help=".torrent file to seed")
    p.add_argument("--save-path", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed-mode", action="store_true", help="skip the initial hash check")
    p.add_argument("--no-stdin", action="store_true", help="don't exit when stdin closes")
    p.add_argument("--download", help="infohash (hex), magnet or .torrent to download")
    p.add_argument("--peer", help="127.0.0.1:PORT to download from")
    p.add_argument("--timeout-ms", type=int, default=120000)
    args = p.parse_args()
    try:
        if args.download:
            if not args.peer:
                p.error("--download needs --peer")
            rc = download(args)
        elif args.torrent:
            rc = seed(args)
        else:
            p.error("--torrent or --download is required")
            rc = 2
    except Exception as e:  # report one JSON line and a non-zero exit
        key = "done" if args.download else "ok"
        emit({key: False, "error": str(e)})
        log(str(e))
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    # skip the session destructor: nothing to save, and it may wait on network teardown
    os._exit(rc)


if __name__ == "__main__":
    main()
