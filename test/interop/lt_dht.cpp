// lt_dht — an independent BEP 44 / BEP 46 implementation for interop tests, built on
// libtorrent-rasterbar's C++ API (2.0.x). The Python binding cannot put a dict value
// ({ih: <20 bytes>}) nor read one back, hence C++.
//
// Usage:
//   lt_dht --port P --node 127.0.0.1:PORT [--node ...] put --seed <64 hex> [--salt <hex>] --seq N --ih <40 hex>
//   lt_dht --port P --node ... get --key <64 hex> [--salt <hex>] [--timeout-ms N]
//   lt_dht --port P --node ... node
//   common options: --bootstrap-timeout-ms N (wait for the routing table, default 5000);
//   put: --timeout-ms N (default 10000); env LT_DHT_VERBOSE=1 logs every alert (DHT packets too).
// Output: one JSON line on stdout; diagnostics on stderr.
//   put  -> {"ok":true,"stored":N,"publicKey":"<hex>","networkSeq":S,"port":P}, exit 0
//   get  -> {"found":true,"seq":N,"ih":"<hex>","publicKey":"<hex>","salt":"<hex>","authoritative":B,"port":P}
//           or {"found":false,"authoritative":B,"port":P}, exit 0
//   node -> {"port":P} once listening, then runs until stdin closes or SIGTERM/SIGINT
//   any failure -> {"ok":false,"error":"..."}, exit 1 (2 for bad arguments)
// "port" is the UDP port of this process's DHT node on 127.0.0.1.
//
// Networking: loopback only. Default bootstrap routers are disabled (dht_bootstrap_nodes=""),
// LSD/UPnP/NAT-PMP are off, and only the --node endpoints given are contacted.
//
// libtorrent quirks met while writing this (2.0.8):
//  - The 64-byte secret key from ed25519_create_keypair(seed) is the *expanded* key
//    (clamped SHA-512 of the seed), not seed||pubkey; the public key matches RFC 8032's for the
//    same 32-byte seed (checked against @noble/ed25519). Sign with lt::dht::sign_mutable_item.
//  - Mutable put is a get-then-put traversal: the callback receives whatever value/seq the lookup
//    found (an undefined entry if none) and must fill in value, seq and signature itself.
//  - A get posts dht_mutable_item_alert possibly several times: authoritative=false each time a
//    newer item is seen, then authoritative=true when the lookup ends. When nothing is found the
//    final alert carries an undefined entry and seq 0.
//  - Loopback network: dht_restrict_routing_ips / dht_restrict_search_ips must be false or
//    libtorrent keeps one node per IP, and all our nodes share 127.0.0.1; dht_block_ratelimit is
//    raised so bursts from 127.0.0.1 are never blocked.
//  - listen_interfaces "127.0.0.1:0" picks an ephemeral port; the DHT runs on the UDP socket of
//    that listen interface; its port is reported by listen_succeeded_alert with socket_type utp
//    (socket_type_t::udp is a deprecated alias). If port P is busy libtorrent tries P+1, P+2...
//    (max_retry_port_bind): possibly another node's port. We set that to 0 so it falls back to an
//    OS-chosen port instead; TCP and UDP may then differ: the printed "port" is the UDP (DHT) one.
//  - A node that has gone away stays in other nodes' routing tables (bittorrent-dht adds every
//    node that queries it) and libtorrent's traversal waits the full 15 s RPC timeout for it
//    (after a 1 s "short timeout"); ICMP port-unreachable does not cut it short. So a one-shot
//    put/get right after an earlier one-shot process exited took 15.1 s (measured). Remedy used by
//    test/helpers/libtorrent.ts: reuse the previous process's UDP port (printed as "port"), so the
//    stale routing entry reaches a live node, which answers at once (with a new node id).
//  - dht_put_alert.num_success counts nodes that acknowledged the put. Nodes holding a higher seq
//    reply 302 and don't count, but through the stale entries above the process may store to
//    itself, so a put with a stale seq can still report stored > 0. "networkSeq" in the output is
//    the seq the lookup found before the put (-1 if none): compare it with --seq.

#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/kademlia/ed25519.hpp>
#include <libtorrent/kademlia/item.hpp>
#include <libtorrent/kademlia/types.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop = true; }

std::string to_hex(char const* p, std::size_t n) {
	static char const* d = "0123456789abcdef";
	std::string out;
	out.reserve(n * 2);
	for (std::size_t i = 0; i < n; ++i) {
		auto c = static_cast<unsigned char>(p[i]);
		out += d[c >> 4];
		out += d[c & 15];
	}
	return out;
}

bool from_hex(std::string const& h, std::string& out) {
	if (h.size() % 2) return false;
	out.clear();
	auto val = [](char c) -> int {
		if (c >= '0' && c <= '9') return c - '0';
		if (c >= 'a' && c <= 'f') return c - 'a' + 10;
		if (c >= 'A' && c <= 'F') return c - 'A' + 10;
		return -1;
	};
	for (std::size_t i = 0; i < h.size(); i += 2) {
		int a = val(h[i]), b = val(h[i + 1]);
		if (a < 0 || b < 0) return false;
		out += static_cast<char>(a * 16 + b);
	}
	return true;
}

std::string json_str(std::string const& s) {
	std::string o = "\"";
	for (char c : s) {
		switch (c) {
			case '"': o += "\\\""; break;
			case '\\': o += "\\\\"; break;
			case '\n': o += "\\n"; break;
			case '\r': o += "\\r"; break;
			case '\t': o += "\\t"; break;
			default:
				if (static_cast<unsigned char>(c) < 0x20) {
					char buf[8];
					std::snprintf(buf, sizeof buf, "\\u%04x", c);
					o += buf;
				} else o += c;
		}
	}
	return o + "\"";
}

void emit(std::string const& line) {
	std::fputs(line.c_str(), stdout);
	std::fputc('\n', stdout);
	std::fflush(stdout);
}

[[noreturn]] void fail(std::string const& msg, int code = 1) {
	emit("{\"ok\":false,\"error\":" + json_str(msg) + "}");
	std::fprintf(stderr, "lt_dht: %s\n", msg.c_str());
	std::fflush(stderr);
	// _exit: skip the session destructor (it may wait on network shutdown)
	_exit(code);
}

bool verbose() {
	static bool v = std::getenv("LT_DHT_VERBOSE") != nullptr;
	return v;
}

struct Opts {
	int port = 0;
	std::vector<std::pair<std::string, int>> nodes;
	std::string cmd;
	std::string seed, salt, key, ih; // raw bytes
	long long seq = -1;
	int timeout_ms = 10000;
	int bootstrap_timeout_ms = 5000;
};

Opts parse(int argc, char** argv) {
	Opts o;
	auto need = [&](int& i) -> std::string {
		if (i + 1 >= argc) fail(std::string("missing value for ") + argv[i], 2);
		return argv[++i];
	};
	for (int i = 1; i < argc; ++i) {
		std::string a = argv[i];
		if (a == "--port") o.port = std::atoi(need(i).c_str());
		else if (a == "--node") {
			std::string v = need(i);
			auto c = v.rfind(':');
			if (c == std::string::npos) fail("bad --node " + v, 2);
			o.nodes.emplace_back(v.substr(0, c), std::atoi(v.c_str() + c + 1));
		}
		else if (a == "--seed") { if (!from_hex(need(i), o.seed) || o.seed.size() != 32) fail("--seed must be 64 hex chars", 2); }
		else if (a == "--salt") { if (!from_hex(need(i), o.salt) || o.salt.size() > 64) fail("--salt must be hex, at most 64 bytes", 2); }
		else if (a == "--key") { if (!from_hex(need(i), o.key) || o.key.size() != 32) fail("--key must be 64 hex chars", 2); }
		else if (a == "--ih") { if (!from_hex(need(i), o.ih) || o.ih.size() != 20) fail("--ih must be 40 hex chars", 2); }
		else if (a == "--seq") o.seq = std::atoll(need(i).c_str());
		else if (a == "--timeout-ms") o.timeout_ms = std::atoi(need(i).c_str());
		else if (a == "--bootstrap-timeout-ms") o.bootstrap_timeout_ms = std::atoi(need(i).c_str());
		else if (a == "put" || a == "get" || a == "node") o.cmd = a;
		else fail("unknown argument " + a, 2);
	}
	if (o.cmd.empty()) fail("command missing: put | get | node", 2);
	if (o.cmd == "put" && (o.seed.empty() || o.ih.empty() || o.seq < 0)) fail("put needs --seed, --seq, --ih", 2);
	if (o.cmd == "get" && o.key.empty()) fail("get needs --key", 2);
	if (o.cmd != "node" && o.nodes.empty()) fail("at least one --node is required", 2);
	return o;
}

lt::settings_pack make_settings(int port) {
	lt::settings_pack sp;
	sp.set_str(lt::settings_pack::listen_interfaces, "127.0.0.1:" + std::to_string(port));
	sp.set_str(lt::settings_pack::outgoing_interfaces, "");
	// port busy: let the OS pick instead of trying P+1, P+2... (which may be another node's port)
	sp.set_int(lt::settings_pack::max_retry_port_bind, 0);
	sp.set_bool(lt::settings_pack::listen_system_port_fallback, true);
	sp.set_bool(lt::settings_pack::enable_dht, true);
	// never contact the public DHT routers
	sp.set_str(lt::settings_pack::dht_bootstrap_nodes, "");
	sp.set_bool(lt::settings_pack::enable_lsd, false);
	sp.set_bool(lt::settings_pack::enable_upnp, false);
	sp.set_bool(lt::settings_pack::enable_natpmp, false);
	sp.set_bool(lt::settings_pack::enable_outgoing_utp, false);
	sp.set_bool(lt::settings_pack::enable_incoming_utp, false);
	// loopback network: every node shares 127.0.0.1
	sp.set_bool(lt::settings_pack::dht_restrict_routing_ips, false);
	sp.set_bool(lt::settings_pack::dht_restrict_search_ips, false);
	sp.set_bool(lt::settings_pack::dht_ignore_dark_internet, false);
	sp.set_bool(lt::settings_pack::dht_enforce_node_id, false);
	sp.set_bool(lt::settings_pack::dht_prefer_verified_node_ids, false);
	sp.set_int(lt::settings_pack::dht_block_ratelimit, 100000);
	sp.set_int(lt::settings_pack::dht_upload_rate_limit, 10 * 1024 * 1024);
	sp.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, true);
	sp.set_int(lt::settings_pack::alert_mask,
		lt::alert_category::dht | lt::alert_category::error | lt::alert_category::status
		| lt::alert_category::dht_operation
		| (std::getenv("LT_DHT_VERBOSE") ? lt::alert_category::dht_log : lt::alert_category_t{}));
	return sp;
}

// Pops alerts for up to `ms`, calling f on each; stops early when f returns true.
template <class F>
bool pump(lt::session& ses, int ms, F&& f) {
	auto const deadline = clk::now() + std::chrono::milliseconds(ms);
	std::vector<lt::alert*> alerts;
	while (!g_stop) {
		auto now = clk::now();
		if (now >= deadline) return false;
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
		ses.wait_for_alert(std::min(left, std::chrono::milliseconds(100)));
		ses.pop_alerts(&alerts);
		for (auto* a : alerts) {
			if (verbose()) std::fprintf(stderr, "[alert] %s: %s\n", a->what(), a->message().c_str());
			if (f(a)) return true;
		}
	}
	return false;
}

int udp_port = -1;

void watch_listen(lt::alert* a) {
	if (auto* l = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
		if (l->socket_type == lt::socket_type_t::utp) udp_port = l->port;
	} else if (auto* f = lt::alert_cast<lt::listen_failed_alert>(a)) {
		fail("listen failed: " + f->message());
	}
}

int routing_nodes(lt::dht_stats_alert const* s) {
	int n = 0;
	for (auto const& b : s->routing_table) n += b.num_nodes;
	return n;
}

// Waits until the DHT socket is up and (if nodes were given) the routing table holds nodes.
// Returns the number of nodes in the routing table.
int start(lt::session& ses, Opts const& o) {
	// the listen socket must exist before add_dht_node has anything to send from
	pump(ses, 5000, [&](lt::alert* a) { watch_listen(a); return udp_port >= 0; });
	if (udp_port < 0) fail("DHT socket did not open");
	for (auto const& n : o.nodes) ses.add_dht_node(n);
	if (o.nodes.empty()) return 0;

	// wait until the routing table has nodes. Wait a little longer than the first one so that
	// the pings to the other given nodes (all on loopback) get answered too.
	int const want = static_cast<int>(o.nodes.size());
	int have = 0;
	auto const t0 = clk::now();
	clk::time_point first{};
	auto const deadline = t0 + std::chrono::milliseconds(o.bootstrap_timeout_ms);
	while (!g_stop && clk::now() < deadline) {
		ses.post_dht_stats();
		pump(ses, 100, [&](lt::alert* a) {
			watch_listen(a);
			if (auto* s = lt::alert_cast<lt::dht_stats_alert>(a)) { have = routing_nodes(s); return true; }
			return false;
		});
		if (have > 0 && first == clk::time_point{}) first = clk::now();
		if (have >= want) break;
		if (have > 0 && clk::now() - first > std::chrono::milliseconds(300)) break;
	}
	if (have == 0 && o.cmd != "node") fail("no DHT node answered (routing table empty)");
	return have;
}

int cmd_put(lt::session& ses, Opts const& o) {
	std::array<char, 32> seed;
	std::copy(o.seed.begin(), o.seed.end(), seed.begin());
	lt::dht::public_key pk;
	lt::dht::secret_key sk;
	std::tie(pk, sk) = lt::dht::ed25519_create_keypair(seed);

	lt::entry value;
	value["ih"] = o.ih; // bencodes as a byte string of 20 bytes
	std::int64_t const seq = o.seq;

	std::atomic<long long> seen_seq{-1};
	ses.dht_put_item(pk.bytes,
		[pk, sk, value, seq, &seen_seq](lt::entry& e, std::array<char, 64>& sig, std::int64_t& s, std::string const& salt) {
			// called on libtorrent's network thread with whatever item the lookup found
			seen_seq = e.type() == lt::entry::undefined_t ? -1 : static_cast<long long>(s);
			e = value;
			s = seq;
			std::vector<char> buf;
			lt::bencode(std::back_inserter(buf), e);
			lt::dht::signature sign = lt::dht::sign_mutable_item(buf, salt, lt::dht::sequence_number(s), pk, sk);
			sig = sign.bytes;
		},
		o.salt);

	lt::dht_put_alert const* done = nullptr;
	int stored = -1;
	std::string pub_hex = to_hex(pk.bytes.data(), pk.bytes.size());
	pump(ses, o.timeout_ms, [&](lt::alert* a) {
		if (auto* p = lt::alert_cast<lt::dht_put_alert>(a)) {
			if (p->public_key == pk.bytes && p->salt == o.salt) { done = p; stored = p->num_success; return true; }
		}
		return false;
	});
	if (!done) fail(g_stop ? "interrupted" : "timeout waiting for dht_put_alert");
	if (seen_seq > seq)
		std::fprintf(stderr, "lt_dht: warning: network already holds seq %lld > %lld\n", seen_seq.load(), static_cast<long long>(seq));
	emit("{\"ok\":true,\"stored\":" + std::to_string(stored) + ",\"publicKey\":\"" + pub_hex
		+ "\",\"networkSeq\":" + std::to_string(seen_seq.load()) + ",\"port\":" + std::to_string(udp_port) + "}");
	return 0;
}

int cmd_get(lt::session& ses, Opts const& o) {
	std::array<char, 32> key;
	std::copy(o.key.begin(), o.key.end(), key.begin());
	ses.dht_get_item(key, o.salt);

	bool have = false, authoritative = false;
	std::int64_t seq = 0;
	std::string ih, salt, pub;
	std::string err;
	pump(ses, o.timeout_ms, [&](lt::alert* a) {
		auto* m = lt::alert_cast<lt::dht_mutable_item_alert>(a);
		if (!m || m->key != key || m->salt != o.salt) return false;
		if (m->item.type() != lt::entry::undefined_t && (!have || m->seq >= seq)) {
			// BEP 46: v is a dict {ih: <20 bytes>}
			lt::entry const* v = m->item.type() == lt::entry::dictionary_t ? m->item.find_key("ih") : nullptr;
			if (v && v->type() == lt::entry::string_t && v->string().size() == 20) {
				have = true;
				seq = m->seq;
				ih = v->string();
				salt = m->salt;
				pub = std::string(m->key.data(), m->key.size());
			} else {
				err = "value is not a BEP 46 {ih} dict: " + m->item.to_string();
			}
		}
		if (m->authoritative) { authoritative = true; return true; }
		return false;
	});
	if (!err.empty()) std::fprintf(stderr, "lt_dht: %s\n", err.c_str());
	if (!have) {
		emit(std::string("{\"found\":false,\"authoritative\":") + (authoritative ? "true" : "false")
			+ ",\"port\":" + std::to_string(udp_port) + "}");
		return 0;
	}
	emit("{\"found\":true,\"seq\":" + std::to_string(seq) + ",\"ih\":\"" + to_hex(ih.data(), ih.size())
		+ "\",\"publicKey\":\"" + to_hex(pub.data(), pub.size()) + "\",\"salt\":\"" + to_hex(salt.data(), salt.size())
		+ "\",\"authoritative\":" + (authoritative ? "true" : "false") + ",\"port\":" + std::to_string(udp_port) + "}");
	return 0;
}

int cmd_node(lt::session& ses, Opts const&) {
	emit("{\"port\":" + std::to_string(udp_port) + "}");
	// run until SIGTERM/SIGINT or stdin closes
	std::thread([] {
		char buf[256];
		while (read(0, buf, sizeof buf) > 0) {}
		g_stop = true;
	}).detach();
	pump(ses, 24 * 3600 * 1000, [](lt::alert*) { return false; });
	return 0;
}

} // namespace

int main(int argc, char** argv) {
	std::signal(SIGTERM, on_signal);
	std::signal(SIGINT, on_signal);
	std::signal(SIGPIPE, SIG_IGN);
	Opts o = parse(argc, argv);

	lt::session_params params(make_settings(o.port));
	lt::session ses(std::move(params));
	int rc;
	try {
		start(ses, o);
		if (o.cmd == "put") rc = cmd_put(ses, o);
		else if (o.cmd == "get") rc = cmd_get(ses, o);
		else rc = cmd_node(ses, o);
	} catch (std::exception const& e) {
		fail(std::string("exception: ") + e.what());
	}
	// Don't wait for the session's orderly shutdown (it can linger on network teardown);
	// there is nothing to save.
	std::fflush(stdout);
	std::fflush(stderr);
	_exit(rc);
}
