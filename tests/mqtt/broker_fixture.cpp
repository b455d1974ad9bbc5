#include "broker_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mqtt/async_client.h>
#include <mutex>
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
  return std::string("loxcan-test-") + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
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
                      << (extra_.find("allow_anonymous") == std::string::npos ? "allow_anonymous true\n" : "")
                      << "persistence false\n" << extra_ << "\n";
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string log = dir_ + "/mosquitto.log";
    FILE* f = std::freopen(log.c_str(), "a", stderr);
    (void)f;
    ::execlp("mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200 && !port_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  if (!port_open(port_)) throw std::runtime_error("mosquitto did not start; see " + dir_ + "/mosquitto.log");
}

void Mosquitto::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

// ---- TestLoop -------------------------------------------------------------------------------

struct TestLoop::Impl {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> q;
};

std::shared_ptr<TestLoop::Impl> TestLoop::make_impl() { return std::make_shared<Impl>(); }

void TestLoop::post(std::function<void()> f) {
  {
    std::lock_guard lock(impl_->m);
    impl_->q.push_back(std::move(f));
  }
  impl_->cv.notify_one();
}

bool TestLoop::run_until(const std::function<bool()>& done, int timeout_ms, const std::function<void()>& idle) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto next_idle = std::chrono::steady_clock::now();
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return done();
    if (idle && now >= next_idle) {
      idle();
      next_idle = now + std::chrono::milliseconds(50);
    }
    std::function<void()> task;
    {
      std::unique_lock lock(impl_->m);
      impl_->cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return !impl_->q.empty(); });
      if (impl_->q.empty()) continue;
      task = std::move(impl_->q.front());
      impl_->q.pop_front();
    }
    task();
  }
  return true;
}

// ---- Paho helpers ---------------------------------------------------------------------------

namespace {
::mqtt::connect_options login(const std::string& user, const std::string& pass) {
  ::mqtt::connect_options o;
  if (!user.empty()) {
    o.set_user_name(user);
    o.set_password(pass);
  }
  return o;
}
}  // namespace

std::map<std::string, std::string> retained_snapshot(const std::string& uri, const std::string& user, const std::string& pass) {
  ::mqtt::async_client c(uri, unique_id("snap"), ::mqtt::create_options(MQTTVERSION_3_1_1), nullptr);
  c.start_consuming();
  c.connect(login(user, pass))->wait();
  c.subscribe("#", 1)->wait();
  std::map<std::string, std::string> out;
  // The broker sends the retained store right after SUBACK; stop after a quiet period.
  for (;;) {
    ::mqtt::const_message_ptr m;
    if (!c.try_consume_message_for(&m, std::chrono::milliseconds(300))) break;
    if (m && m->is_retained()) out[m->get_topic()] = m->to_string();
  }
  c.disconnect()->wait();
  return out;
}

void publish_raw(const std::string& uri, const std::string& topic, const std::string& payload, bool retain, int qos,
                 const std::string& user, const std::string& pass) {
  ::mqtt::async_client c(uri, unique_id("pub"), ::mqtt::create_options(MQTTVERSION_3_1_1), nullptr);
  c.connect(login(user, pass))->wait();
  c.publish(topic, payload.data(), payload.size(), qos, retain)->wait();
  c.disconnect()->wait();
}

void publish_many(const std::string& uri, const std::vector<Publication>& msgs) {
  ::mqtt::async_client c(uri, unique_id("pub"), ::mqtt::create_options(MQTTVERSION_3_1_1), nullptr);
  c.connect()->wait();
  for (const auto& m : msgs) c.publish(m.topic, m.payload.data(), m.payload.size(), m.qos, m.retain)->wait();
  c.disconnect()->wait();
}

struct Subscriber::Impl : public virtual ::mqtt::callback {
  explicit Impl(const std::string& uri) : client(uri, unique_id("sub"), ::mqtt::create_options(MQTTVERSION_3_1_1), nullptr) {}
  void message_arrived(::mqtt::const_message_ptr m) override {
    std::lock_guard lock(mutex);
    got.push_back({m->get_topic(), m->to_string(), m->get_qos(), m->is_retained()});
  }
  ::mqtt::async_client client;
  mutable std::mutex mutex;
  std::vector<Publication> got;
};

Subscriber::Subscriber(const std::string& uri, const std::string& filter) : impl_(std::make_unique<Impl>(uri)) {
  impl_->client.set_callback(*impl_);
  impl_->client.connect()->wait();
  impl_->client.subscribe(filter, 1)->wait();
}

Subscriber::~Subscriber() {
  try {
    impl_->client.disconnect()->wait();
  } catch (const ::mqtt::exception&) {
  }
}

std::vector<Publication> Subscriber::messages() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->got;
}

}  // namespace loxcan::mqtt::test
