#include "broker_fixture.hpp"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace loxcan::mqtt::test {

namespace {

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string unique_id(const char* what) {
  static int n = 0;
  return std::string("loxcan-test-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++n);
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Mosquitto::Mosquitto(std::string extra) : extra_(std::move(extra)), port_(free_port()) {
  dir_ = (std::filesystem::temp_directory_path() / unique_id("broker")).string();
  std::filesystem::create_directories(dir_);
}

Mosquitto::~Mosquitto() {
  kill9();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Mosquitto::start() {
  const std::string conf = dir_ + "/mosquitto.conf";
  std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\n"
                      << (extra_.find("allow_anonymous") == std::string::npos
                              ? "allow_anonymous true\n"
                              : "")
                      << "persistence false\n"
                      << extra_ << "\n";
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string log = dir_ + "/mosquitto.log";
    FILE* f = std::freopen(log.c_str(), "a", stderr);
    (void)f;
    ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200 && !port_open(port_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  if (!port_open(port_))
    throw std::runtime_error("mosquitto did not start; see " + dir_ + "/mosquitto.log");
}

void Mosquitto::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);  // also ends a paused (SIGSTOP) broker
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void Mosquitto::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void Mosquitto::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

// ---- TestLoop -------------------------------------------------------------------------------

bool TestLoop::run_until(const std::function<bool()>& done, int timeout_ms,
                         const std::function<void()>& idle) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto next_idle = std::chrono::steady_clock::now();
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return done();
    if (idle && now >= next_idle) {
      idle();
      next_idle = now + std::chrono::milliseconds(50);
    }
    loop_.run_once(std::chrono::milliseconds(20));
  }
  return true;
}

// ---- helper clients (libmosquitto, blocking: test code only) --------------------------------

namespace {

struct Session {
  std::mutex mutex;
  std::vector<Publication> got;
  std::set<int> acked;  // mids of finished publishes and subscribes
};

void collect(mosquitto*, void* s, const mosquitto_message* m) {
  auto* session = static_cast<Session*>(s);
  std::lock_guard lock(session->mutex);
  session->got.push_back(
      {m->topic,
       std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)),
       m->qos, m->retain});
}

void acked(mosquitto*, void* s, int mid) {
  auto* session = static_cast<Session*>(s);
  std::lock_guard lock(session->mutex);
  session->acked.insert(mid);
}

void subacked(mosquitto* m, void* s, int mid, int, const int*) {
  acked(m, s, mid);
}

// A connected client; throws std::runtime_error naming the broker when the connect fails.
struct Client {
  Client(const std::string& uri, const char* what, const std::string& user = {},
         const std::string& pass = {}) {
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    const auto addr = broker_address(uri);
    if (!addr) throw std::runtime_error("bad broker URI " + uri);
    m = mosquitto_new(unique_id(what).c_str(), true, &session);
    mosquitto_message_callback_set(m, collect);
    mosquitto_publish_callback_set(m, acked);
    mosquitto_subscribe_callback_set(m, subacked);
    if (!user.empty()) mosquitto_username_pw_set(m, user.c_str(), pass.c_str());
    if (mosquitto_connect(m, addr->host.c_str(), addr->port, 60) != MOSQ_ERR_SUCCESS) {
      mosquitto_destroy(m);
      throw std::runtime_error("cannot connect to " + uri);
    }
  }
  ~Client() {
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
  }
  bool is_acked(int mid) {
    std::lock_guard lock(session.mutex);
    return session.acked.count(mid) != 0;
  }
  // Runs the network loop on this thread until `mid` is acknowledged (10 s at most).
  void wait_for(int mid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!is_acked(mid) && std::chrono::steady_clock::now() < deadline) mosquitto_loop(m, 50, 1);
    if (!is_acked(mid)) throw std::runtime_error("no acknowledgement from the broker");
  }
  void publish(const Publication& p) {
    int mid = 0;
    mosquitto_publish(m, &mid, p.topic.c_str(), static_cast<int>(p.payload.size()),
                      p.payload.data(), p.qos, p.retain);
    wait_for(mid);
  }
  Session session;
  mosquitto* m = nullptr;
};

}  // namespace

std::map<std::string, std::string> retained_snapshot(const std::string& uri,
                                                     const std::string& user,
                                                     const std::string& pass) {
  Client c(uri, "snap", user, pass);
  int mid = 0;
  mosquitto_subscribe(c.m, &mid, "#", 1);
  c.wait_for(mid);
  // The broker sends the retained store right after SUBACK; stop after a quiet period.
  std::size_t seen = 0;
  for (auto quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
       std::chrono::steady_clock::now() < quiet_until;) {
    mosquitto_loop(c.m, 50, 1);
    std::lock_guard lock(c.session.mutex);
    if (c.session.got.size() != seen) {
      seen = c.session.got.size();
      quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    }
  }
  std::map<std::string, std::string> out;
  std::lock_guard lock(c.session.mutex);
  for (const auto& m : c.session.got) {
    if (m.retain) out[m.topic] = m.payload;
  }
  return out;
}

void publish_raw(const std::string& uri, const std::string& topic, const std::string& payload,
                 bool retain, int qos, const std::string& user, const std::string& pass) {
  Client c(uri, "pub", user, pass);
  c.publish({topic, payload, qos, retain});
}

void publish_many(const std::string& uri, const std::vector<Publication>& msgs) {
  Client c(uri, "pub");
  for (const auto& m : msgs) c.publish(m);
}

struct Subscriber::Impl {
  explicit Impl(const std::string& uri) : client(uri, "sub") {}
  Client client;
};

Subscriber::Subscriber(const std::string& uri, const std::string& filter)
    : impl_(std::make_unique<Impl>(uri)) {
  int mid = 0;
  mosquitto_subscribe(impl_->client.m, &mid, filter.c_str(), 1);
  impl_->client.wait_for(mid);
  mosquitto_loop_start(impl_->client.m);  // collects in the background from here on
}

Subscriber::~Subscriber() {
  mosquitto_disconnect(impl_->client.m);
  mosquitto_loop_stop(impl_->client.m, false);
}

std::vector<Publication> Subscriber::messages() const {
  std::lock_guard lock(impl_->client.session.mutex);
  return impl_->client.session.got;
}

}  // namespace loxcan::mqtt::test
