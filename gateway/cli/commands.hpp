#pragma once
// The verbs of the `loxcan` command. Each verb lives in gateway/cli/cmd_<verb>.cpp and is a thin
// composition of the rooms below (doc/ARCHITECTURE.md); main.cpp only dispatches.
//
// Contract for every verb: argv[0] is "loxcan <verb>", options are parsed with getopt_long,
// `--help` prints the usage to stdout and returns 0, and exit codes follow <sysexits.h>:
// 0 success, 1 a check failed (e.g. `sim` expectations), EX_USAGE (64) bad arguments,
// EX_DATAERR (65) bad input data, EX_NOINPUT (66) missing input file, EX_UNAVAILABLE (69) a
// service/interface is missing, EX_IOERR (74) I/O failure, EX_CONFIG (78) bad configuration.

namespace loxcan::cli {

using CommandFn = int (*)(int argc, char** argv);

struct CommandInfo {
  const char* name;
  CommandFn run;
  const char* summary;  ///< one line for `loxcan --help`
};

// Verbs, in the order `loxcan --help` lists them.
int run_decode(int argc, char** argv);
int run_record(int argc, char** argv);
int run_replay(int argc, char** argv);
int run_discover(int argc, char** argv);
int run_dns(int argc, char** argv);
int run_check_config(int argc, char** argv);
int run_devices(int argc, char** argv);
int run_sim(int argc, char** argv);
int run_emulate(int argc, char** argv);
int run_loxberry_subscriptions(int argc, char** argv);

}  // namespace loxcan::cli
