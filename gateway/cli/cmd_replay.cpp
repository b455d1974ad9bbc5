// `loxcan replay`: send the frames of a candump log with their original timing.
#include <getopt.h>
#include <sysexits.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "canproto/candump.hpp"
#include "gateway/canio/log.hpp"
#include "gateway/cli/cli_ports.hpp"
#include "gateway/cli/commands.hpp"

namespace loxcan::cli {
namespace {

using namespace std::chrono_literals;
using canio::CanPort;
using gateway::EventLoop;

constexpr const char* kUsage =
    "usage: loxcan replay [options] FILE|- [DST=SRC ...]\n"
    "\n"
    "Sends the frames of a candump log (as written by `candump -l`/`-L` or `loxcan record`) with\n"
    "their original timing. Frames go out on the interface the log names, unless remapped:\n"
    "\n"
    "  DST=SRC                frames logged on SRC are sent on DST (like canplayer), e.g.\n"
    "                         `vcan0=can0` replays a capture from can0 on vcan0; when any\n"
    "                         mapping is given, frames of unmapped interfaces are skipped\n"
    "  -i, --iface IF[:ROLE]  send every frame on IF, whatever interface the log names\n"
    "  -r, --rate X|max       X times the original speed (0.5 = half speed); max: as fast as\n"
    "                         the interfaces take them (never faster than their TX queues drain)\n"
    "      --errors           also send error frames found in the log (only sensible on vcan;\n"
    "                         skipped and counted otherwise)\n"
    "      --lenient          accept what can-utils accepts silently (extra data bytes, ...)\n"
    "      --tx-queue N       frames queued per interface before replay waits (default 1024)\n"
    "      --stats            print statistics per interface and a summary to stderr at the end\n"
    "  -h, --help             this text\n"
    "\n"
    "Lines that do not start with '(' are skipped, as canplayer does; malformed frames are\n"
    "reported as FILE:LINE:COLUMN and skipped (exit status 65 at the end). Stops on SIGINT or\n"
    "SIGTERM; SIGUSR1 prints the statistics lines at any time.\n"
    "Example: loxcan replay --rate 2 home.log vcan0=can0\n";

enum LongOnly { kErrors = 256, kLenient, kTxQueue, kStats };

struct ReplayArgs {
  std::optional<IfaceSpec> all_to;
  std::map<std::string, std::string> map;  // source iface in the log -> destination
  double rate = 1.0;
  bool max_rate = false, errors = false, lenient = false, stats = false;
  PortOptions port;
  std::string input;
};

int usage_error(const char* fmt, const char* arg) {
  return cli::usage_error("loxcan replay", fmt, arg);
}

bool valid_iface(std::string_view name) {
  return !name.empty() && name.size() <= canproto::kMaxIfaceName;
}

int parse_args(int argc, char** argv, ReplayArgs& a) {
  static const option kOptions[] = {{"iface", required_argument, nullptr, 'i'},
                                    {"rate", required_argument, nullptr, 'r'},
                                    {"errors", no_argument, nullptr, kErrors},
                                    {"lenient", no_argument, nullptr, kLenient},
                                    {"tx-queue", required_argument, nullptr, kTxQueue},
                                    {"stats", no_argument, nullptr, kStats},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  optind = 1;
  int c;
  std::uint64_t n = 0;
  while ((c = getopt_long(argc, argv, "i:r:h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'i':
        a.all_to = parse_iface_spec(optarg);
        if (!a.all_to)
          return usage_error("bad --iface '%s' (NAME[:link|tree-left|tree-right])", optarg);
        break;
      case 'r':
        if (std::string_view(optarg) == "max") {
          a.max_rate = true;
        } else if (!parse_seconds(optarg, a.rate) || a.rate <= 0) {
          return usage_error("bad --rate '%s' (a positive factor, or max)", optarg);
        }
        break;
      case kErrors: a.errors = true; break;
      case kLenient: a.lenient = true; break;
      case kTxQueue:
        if (!parse_count(optarg, n) || n == 0 || n > 1000000)
          return usage_error("bad --tx-queue '%s'", optarg);
        a.port.tx_queue_limit = n;
        break;
      case kStats: a.stats = true; break;
      case 'h': std::fputs(kUsage, stdout); return 0;
      default: std::fputs(kUsage, stderr); return EX_USAGE;
    }
  }
  if (optind >= argc) return usage_error("%s", "an input FILE (or '-') is needed");
  a.input = argv[optind++];
  for (; optind < argc; ++optind) {
    std::string_view m = argv[optind];
    auto eq = m.find('=');
    if (eq == m.npos || !valid_iface(m.substr(0, eq)) || !valid_iface(m.substr(eq + 1)))
      return usage_error("bad interface mapping '%s' (DST=SRC, e.g. vcan0=can0)", argv[optind]);
    a.map[std::string(m.substr(eq + 1))] = std::string(m.substr(0, eq));
  }
  if (a.all_to && !a.map.empty())
    return usage_error("%s", "--iface and DST=SRC mappings exclude each other");
  return -1;
}

// Reads the log lazily and hands frames to the ports when they are due.
class Replayer {
 public:
  Replayer(EventLoop& loop, PortGroup& group, std::istream& in, const ReplayArgs& args)
      : loop_(loop), group_(group), args_(args), reader_(in, options(args)) {}

  void begin() { schedule(0ns); }
  /// Opens the interfaces named on the command line before any frame is read, so that a typo
  /// fails at once. False when one could not be opened (reported).
  bool open_targets() {
    if (args_.all_to) return port_for(args_.all_to->name) != nullptr;
    for (const auto& [src, dst] : args_.map)
      if (!port_for(dst)) return false;
    return true;
  }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t skipped() const { return skipped_; }
  std::uint64_t parse_errors() const { return parse_errors_; }
  bool open_failed() const { return open_failed_; }
  bool finished() const { return finished_; }

 private:
  static canproto::ParseOptions options(const ReplayArgs& args) {
    canproto::ParseOptions o;
    o.lenient = args.lenient;
    return o;
  }

  void schedule(EventLoop::Duration after) {
    if (timer_) loop_.cancel(timer_);
    timer_ = loop_.add_timer(after, [this] {
      timer_ = 0;
      pump();
    });
  }

  // Next frame from the log, skipping (and reporting) bad lines. False at the end.
  bool read_next() {
    canproto::ParseError e;
    for (;;) {
      switch (reader_.next(frame_, e)) {
        case canproto::LogReader::Status::frame: return true;
        case canproto::LogReader::Status::end: return false;
        case canproto::LogReader::Status::error:
          if (++parse_errors_ <= 20)
            std::fprintf(
                stderr, "loxcan replay: %s\n",
                canproto::format_error(e, args_.input == "-" ? "stdin" : args_.input).c_str());
          break;
      }
    }
  }

  std::string destination(const canproto::Frame& f) const {
    if (args_.all_to) return args_.all_to->name;
    const std::string src(f.iface.view());
    if (args_.map.empty()) return src;
    auto it = args_.map.find(src);
    return it == args_.map.end() ? std::string() : it->second;
  }

  CanPort* port_for(const std::string& name) {
    if (CanPort* p = group_.find(name)) return p;
    IfaceSpec spec{name, args_.all_to ? args_.all_to->role : canio::Role::link};
    auto config = make_port_config(spec, args_.port);
    config.socket.receive = false;  // send-only; error frames still tell about bus-off
    config.socket.fd = true;
    CanPort& port = group_.add(std::move(config));
    port.set_tx_space_handler([this] {
      if (waiting_for_space_) {
        waiting_for_space_ = false;
        pump();
      }
    });
    if (auto r = port.start(); !r) {
      std::fprintf(stderr, "loxcan replay: %s\n", r.error().message().c_str());
      open_failed_ = true;
      loop_.stop();
      return nullptr;
    }
    return &port;
  }

  EventLoop::TimePoint due_time(const canproto::Frame& f) {
    if (!have_base_) {
      have_base_ = true;
      base_ts_ = f.ts_ns;
      base_time_ = EventLoop::now();
    }
    const double offset_ns = static_cast<double>(f.ts_ns - base_ts_) / args_.rate;
    auto due = base_time_ + std::chrono::nanoseconds(static_cast<std::int64_t>(offset_ns));
    last_due_ = std::max(due, last_due_);  // out-of-order timestamps: send at once, in file order
    return last_due_;
  }

  void pump() {
    if (finished_) return;
    for (int batch = 0; batch < 256; ++batch) {
      if (!have_frame_) {
        if (!read_next()) {
          finish_reading();
          return;
        }
        have_frame_ = true;
        due_known_ = false;
      }
      if (frame_.error && !args_.errors) {
        ++skipped_;
        have_frame_ = false;
        continue;
      }
      const std::string dst = destination(frame_);
      if (dst.empty()) {
        if (!args_.all_to && args_.map.empty() && frame_.iface.empty() && !said_no_iface_) {
          std::fprintf(stderr, "loxcan replay: line %llu has no interface name: use --iface\n",
                       static_cast<unsigned long long>(reader_.line_number()));
          said_no_iface_ = true;
        }
        ++skipped_;
        have_frame_ = false;
        continue;
      }
      if (!args_.max_rate) {
        if (!due_known_) {
          due_ = due_time(frame_);
          due_known_ = true;
        }
        const auto now = EventLoop::now();
        if (due_ > now) {
          schedule(due_ - now);
          return;
        }
      }
      CanPort* port = port_for(dst);
      if (!port) return;
      if (port->tx_queue_size() >= port->config().tx_queue_limit) {
        waiting_for_space_ = true;  // the port calls back when its queue drained
        return;
      }
      port->send(frame_);
      ++sent_;
      have_frame_ = false;
    }
    schedule(0ns);  // yield to the loop (signals, error frames), then go on
  }

  void finish_reading() {
    finished_ = true;
    // Done when every queue drained; a port that is down keeps its frames until it is back.
    done_timer_ = loop_.add_periodic(20ms, [this] {
      for (const auto& p : group_.ports())
        if (p->tx_queue_size() != 0) return;
      loop_.cancel(done_timer_);
      loop_.stop();
    });
  }

  EventLoop& loop_;
  PortGroup& group_;
  const ReplayArgs& args_;
  canproto::LogReader reader_;
  canproto::Frame frame_;
  bool have_frame_ = false, due_known_ = false, have_base_ = false;
  bool waiting_for_space_ = false, finished_ = false, open_failed_ = false, said_no_iface_ = false;
  std::int64_t base_ts_ = 0;
  EventLoop::TimePoint base_time_{}, last_due_{}, due_{};
  EventLoop::TimerId timer_ = 0, done_timer_ = 0;
  std::uint64_t sent_ = 0, skipped_ = 0, parse_errors_ = 0;
};

}  // namespace

int run_replay(int argc, char** argv) {
  ReplayArgs args;
  if (int rc = parse_args(argc, argv, args); rc >= 0) return rc;
  std::ifstream file;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "loxcan replay: %s: %s\n", args.input.c_str(), std::strerror(errno));
      return EX_NOINPUT;
    }
  }
  std::istream& in = args.input == "-" ? std::cin : file;

  EventLoop loop;
  PortGroup group(loop);
  Replayer replayer(loop, group, in, args);
  install_cli_signals(loop, group);
  if (!replayer.open_targets()) return EX_UNAVAILABLE;
  replayer.begin();
  loop.run();

  const auto failed = group.total([](const canio::PortStats& s) { return s.tx_failed; });
  const auto unsent = group.total([](const canio::PortStats& s) { return s.tx_queued; });
  if (args.stats) {
    group.print_stats(stderr);
    std::fprintf(stderr,
                 "replay sent=%llu skipped=%llu parse_errors=%llu failed=%llu unsent=%llu\n",
                 static_cast<unsigned long long>(replayer.sent()),
                 static_cast<unsigned long long>(replayer.skipped()),
                 static_cast<unsigned long long>(replayer.parse_errors()),
                 static_cast<unsigned long long>(failed), static_cast<unsigned long long>(unsent));
  }
  group.stop_all();
  if (replayer.open_failed()) return EX_UNAVAILABLE;
  if (unsent)
    std::fprintf(stderr, "loxcan replay: interrupted, %llu frame(s) not sent\n",
                 static_cast<unsigned long long>(unsent));
  if (replayer.parse_errors()) return EX_DATAERR;
  if (failed) return EX_IOERR;
  return 0;
}

}  // namespace loxcan::cli
