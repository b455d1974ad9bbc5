// `loxcan record`: capture one or more live interfaces into a candump-compatible log.
#include <getopt.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "canproto/candump.hpp"
#include "gateway/cli/cli_ports.hpp"
#include "gateway/cli/commands.hpp"

namespace loxcan::cli {
namespace {

using namespace std::chrono_literals;
using canio::CanPort;

constexpr const char* kUsage =
    "usage: loxcan record --iface IF[:ROLE] [--iface IF2 ...] [options] FILE|-\n"
    "\n"
    "Writes every frame received on the interfaces to FILE ('-': stdout) in the candump log\n"
    "format ('(secs.usecs) iface ID#DATA', as `candump -L` writes it), readable by canplayer,\n"
    "`loxcan replay` and `loxcan decode`. Survives interfaces going down or away (reopens them).\n"
    "\n"
    "  -i, --iface IF[:ROLE]  interface to record, repeatable; ROLE: link (default), tree-left,\n"
    "                         tree-right (decides the nominal bitrate for the bus load)\n"
    "  -d, --duration S       stop after S seconds (fractions allowed)\n"
    "  -n, --count N          stop after N frames written\n"
    "      --loxone-only      let the kernel drop everything but the role's Loxone frames\n"
    "                         (29-bit data frames; 0x11xxxxxx on a Tree branch)\n"
    "      --errors           also write error frames (they are always decoded and counted)\n"
    "      --nanoseconds      9-digit timestamp fractions (like candump -N)\n"
    "      --rcvbuf BYTES     socket receive buffer to ask for (default 1048576; as root the\n"
    "                         net.core.rmem_max limit is bypassed)\n"
    "      --configure-link   set the role's bitrate (125000 link, 50000 tree), restart-ms and\n"
    "                         bring the interface up first (needs root; vcan: nothing to set)\n"
    "      --restart-ms MS    restart-ms for --configure-link (default 100)\n"
    "      --stats            print one statistics line per interface to stderr at the end\n"
    "  -h, --help             this text\n"
    "\n"
    "Stops on SIGINT or SIGTERM. SIGUSR1 prints the statistics lines at any time.\n"
    "Example: loxcan record -i can0 -i can1:tree-left --duration 600 --stats bus.log\n";

enum LongOnly { kLoxoneOnly = 256, kErrors, kNanoseconds, kRcvbuf, kConfigure, kRestartMs, kStats };

struct RecordArgs {
  std::vector<IfaceSpec> ifaces;
  PortOptions port;
  double duration = -1;
  std::uint64_t count = 0;
  bool loxone_only = false, errors = false, nanoseconds = false, stats = false;
  std::string output;
};

int usage_error(const char* fmt, const char* arg) {
  return cli::usage_error("loxcan record", fmt, arg);
}

// Returns -1 to continue, otherwise the exit code.
int parse_args(int argc, char** argv, RecordArgs& a) {
  static const option kOptions[] = {{"iface", required_argument, nullptr, 'i'},
                                    {"duration", required_argument, nullptr, 'd'},
                                    {"count", required_argument, nullptr, 'n'},
                                    {"loxone-only", no_argument, nullptr, kLoxoneOnly},
                                    {"errors", no_argument, nullptr, kErrors},
                                    {"nanoseconds", no_argument, nullptr, kNanoseconds},
                                    {"rcvbuf", required_argument, nullptr, kRcvbuf},
                                    {"configure-link", no_argument, nullptr, kConfigure},
                                    {"restart-ms", required_argument, nullptr, kRestartMs},
                                    {"stats", no_argument, nullptr, kStats},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  optind = 1;
  int c;
  std::uint64_t n = 0;
  while ((c = getopt_long(argc, argv, "i:d:n:h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'i': {
        auto spec = parse_iface_spec(optarg);
        if (!spec)
          return usage_error("bad --iface '%s' (NAME[:link|tree-left|tree-right])", optarg);
        a.ifaces.push_back(*spec);
        break;
      }
      case 'd':
        if (!parse_seconds(optarg, a.duration)) return usage_error("bad --duration '%s'", optarg);
        break;
      case 'n':
        if (!parse_count(optarg, a.count) || a.count == 0)
          return usage_error("bad --count '%s' (a positive number)", optarg);
        break;
      case kLoxoneOnly: a.loxone_only = true; break;
      case kErrors: a.errors = true; break;
      case kNanoseconds: a.nanoseconds = true; break;
      case kRcvbuf:
        if (!parse_count(optarg, n) || n > (1u << 30))
          return usage_error("bad --rcvbuf '%s'", optarg);
        a.port.rcvbuf = static_cast<int>(n);
        break;
      case kConfigure: a.port.configure_link = true; break;
      case kRestartMs:
        if (!parse_count(optarg, n) || n > 3600000)
          return usage_error("bad --restart-ms '%s'", optarg);
        a.port.restart_ms = static_cast<std::uint32_t>(n);
        break;
      case kStats: a.stats = true; break;
      case 'h': std::fputs(kUsage, stdout); return 0;
      default: std::fputs(kUsage, stderr); return EX_USAGE;
    }
  }
  if (a.ifaces.empty()) return usage_error("%s", "at least one --iface is needed");
  if (optind != argc - 1) return usage_error("%s", "exactly one output FILE (or '-') is needed");
  a.output = argv[optind];
  return -1;
}

class Recorder {
 public:
  Recorder(std::FILE* out, const RecordArgs& args) : out_(out), args_(args) {
    for (const auto& s : args.ifaces) width_ = std::max<std::size_t>(width_, s.name.size());
  }

  // False once the output failed (the caller stops the loop).
  bool write(const canproto::Frame& f) {
    canproto::LogWriteOptions opt;
    opt.nanoseconds = args_.nanoseconds;
    opt.iface_width = static_cast<std::uint8_t>(width_);
    const std::size_t len = canproto::format_log_line(f, line_, opt);
    line_[len] = '\n';
    if (std::fwrite(line_, 1, len + 1, out_) != len + 1) return fail();
    ++written_;
    return true;
  }
  bool flush() { return std::fflush(out_) == 0 || fail(); }
  std::uint64_t written() const { return written_; }
  int write_errno() const { return errno_; }

 private:
  bool fail() {
    if (!errno_) errno_ = errno ? errno : EIO;
    return false;
  }
  std::FILE* out_;
  const RecordArgs& args_;
  std::size_t width_ = 0;
  char line_[canproto::kMaxLogLineText + 1];
  std::uint64_t written_ = 0;
  int errno_ = 0;
};

std::FILE* open_output(const std::string& path) {
  if (path == "-") {
    struct stat st;
    // Pipes and terminals get each line at once; files are flushed by a timer.
    if (fstat(fileno(stdout), &st) == 0 && !S_ISREG(st.st_mode))
      setvbuf(stdout, nullptr, _IOLBF, 0);
    return stdout;
  }
  return std::fopen(path.c_str(), "w");
}

}  // namespace

int run_record(int argc, char** argv) {
  RecordArgs args;
  if (int rc = parse_args(argc, argv, args); rc >= 0) return rc;

  std::FILE* out = open_output(args.output);
  if (!out) {
    std::fprintf(stderr, "loxcan record: %s: %s\n", args.output.c_str(), std::strerror(errno));
    return EX_CANTCREAT;
  }
  gateway::EventLoop loop;
  PortGroup group(loop);
  Recorder recorder(out, args);
  bool output_failed = false;

  auto on_frame = [&](const canproto::Frame& f) {
    if (output_failed || (args.count && recorder.written() >= args.count)) return;
    if (!recorder.write(f)) {
      output_failed = true;
      loop.stop();
      return;
    }
    if (args.count && recorder.written() >= args.count) loop.stop();
  };
  for (const auto& spec : args.ifaces) {
    auto config = make_port_config(spec, args.port);
    config.socket.fd = true;  // record what is on the bus, FD included
    if (!args.loxone_only) config.socket.filters.clear();
    CanPort& port = group.add(std::move(config));
    port.set_frame_handler(on_frame);
    if (args.errors)
      port.set_error_frame_handler(
          [&](const canproto::Frame& f, const canio::ErrorInfo&) { on_frame(f); });
  }
  install_cli_signals(loop, group);
  if (int rc = group.start_all("loxcan record"); rc != 0) {
    if (out != stdout) std::fclose(out);
    return rc;
  }
  if (args.duration >= 0)
    loop.add_timer(std::chrono::duration_cast<gateway::EventLoop::Duration>(
                       std::chrono::duration<double>(args.duration)),
                   [&] { loop.stop(); });
  loop.add_periodic(200ms, [&] {
    if (!recorder.flush()) {
      output_failed = true;
      loop.stop();
    }
  });
  loop.run();

  if (!recorder.flush()) output_failed = true;
  if (args.stats) group.print_stats(stderr);
  group.stop_all();
  if (out != stdout && std::fclose(out) != 0 && !output_failed) output_failed = true;
  if (output_failed) {
    std::fprintf(stderr, "loxcan record: writing %s: %s\n", args.output.c_str(),
                 std::strerror(recorder.write_errno() ? recorder.write_errno() : EIO));
    return EX_IOERR;
  }
  return 0;
}

}  // namespace loxcan::cli
