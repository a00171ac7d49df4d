#include "tests/hubspot-sim/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

namespace hubsync::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string url_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void parse_target(HttpRequest& req) {
  auto q = req.target.find('?');
  req.path = url_decode(req.target.substr(0, q), false);
  if (q == std::string::npos) return;
  std::string qs = req.target.substr(q + 1);
  size_t start = 0;
  while (start <= qs.size()) {
    auto amp = qs.find('&', start);
    if (amp == std::string::npos) amp = qs.size();
    std::string part = qs.substr(start, amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      req.query.emplace_back(url_decode(part.substr(0, eq), true),
                             eq == std::string::npos ? std::string() : url_decode(part.substr(eq + 1), true));
    }
    start = amp + 1;
  }
}

namespace {

// What every session shares with the server: the handler, the admit hook,
// and the handler slots. The server runs one io thread more than it has
// slots, so at any moment some thread is free to read and admit requests
// however long handlers take. A request that finds a free slot is answered
// on the thread that read it (no hand-off); one that finds none waits in the
// backlog, which the threads holding slots take up before they let go.
struct Dispatch {
  using Job = std::function<void()>;
  HttpServer::Handler handler;
  HttpServer::Admit admit;
  asio::io_context* ioc = nullptr;
  int slots = 1;
  std::mutex mu;
  int busy = 0;  // slots taken
  std::deque<Job> backlog;

  // Runs `job` now if a slot is free, else queues it.
  void submit(Job job) {
    {
      std::lock_guard lock(mu);
      if (busy >= slots) {
        backlog.push_back(std::move(job));
        return;
      }
      ++busy;
    }
    job();
    release();
  }

  // Lets the slot go, unless the backlog has work: this thread then takes it
  // up once it has left the session's strand (deferred: no other thread is
  // woken for it), keeping the slot until the backlog is empty.
  void release() {
    {
      std::lock_guard lock(mu);
      if (backlog.empty()) {
        --busy;
        return;
      }
    }
    asio::defer(*ioc, [this] { drain(); });
  }

  void drain() {
    for (;;) {
      Job next;
      {
        std::lock_guard lock(mu);
        if (backlog.empty()) {
          --busy;
          return;
        }
        next = std::move(backlog.front());
        backlog.pop_front();
      }
      next();
    }
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Dispatch& dispatch)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), dispatch_(dispatch) {}

  void run() { read(); }
  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.socket().close(ec);
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    parser_->header_limit(64 * 1024);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // The request is admitted as soon as it is read, then answered in a
  // handler slot, and the answer written on this session's strand.
  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit) write_plain(431, "Request Header Fields Too Large");
      else if (ec == http::error::body_limit) write_plain(413, "Payload Too Large");
      else close_now();
      return;
    }
    auto msg = parser_->release();
    auto req = std::make_shared<HttpRequest>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req->headers[name] = std::string(f.value());
    }
    req->body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    if (req->target.size() > 16 * 1024) {
      write_plain(414, "URI Too Long");
      return;
    }
    parse_target(*req);
    if (dispatch_.admit) dispatch_.admit(*req);
    dispatch_.submit([self = shared_from_this(), req] {
      auto resp = std::make_shared<HttpResponse>(self->dispatch_.handler(*req));
      asio::dispatch(self->stream_.get_executor(), [self, resp] { self->respond(std::move(*resp)); });
    });
  }

  void respond(HttpResponse resp) {
    if (resp.action == ResponseAction::kDrop) {
      close_now();
      return;
    }
    if (resp.action == ResponseAction::kReset) {
      beast::error_code ignored;
      stream_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
      stream_.socket().close(ignored);
      return;
    }
    res_.emplace();
    res_->result(static_cast<unsigned>(resp.status));
    res_->version(11);
    if (!resp.content_type.empty()) res_->set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res_->set(k, v);
    res_->body() = std::move(resp.body);
    res_->keep_alive(keep_alive_);
    res_->prepare_payload();
    if (resp.delay_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds(resp.delay_ms));
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->write(); });
    } else {
      write();
    }
  }

  void write_plain(int status, const char* text) {
    res_.emplace();
    res_->result(static_cast<unsigned>(status));
    res_->set(http::field::content_type, "text/plain");
    res_->body() = text;
    res_->keep_alive(false);
    keep_alive_ = false;
    res_->prepare_payload();
    write();
  }

  void write() {
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->keep_alive_) {
        self->close_now();
        return;
      }
      self->read();
    });
  }

  void close_now() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  Dispatch& dispatch_;
  bool keep_alive_ = true;
};

}  // namespace

struct HttpServer::Impl {
  Dispatch dispatch;
  int threads;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> io_threads;
  std::mutex mu;
  std::vector<std::weak_ptr<Session>> sessions;
  bool stopped = false;

  void accept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<Session>(std::move(socket), dispatch);
      {
        std::lock_guard lock(mu);
        std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        sessions.push_back(s);
      }
      s->run();
      accept();
    });
  }
};

HttpServer::HttpServer(Handler handler, int threads, Admit admit) : impl_(std::make_unique<Impl>()) {
  impl_->dispatch.handler = std::move(handler);
  impl_->dispatch.admit = std::move(admit);
  impl_->dispatch.ioc = &impl_->ioc;
  impl_->threads = std::max(1, threads);
  impl_->dispatch.slots = impl_->threads;
}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::listen(std::uint16_t port) {
  auto& d = *impl_;
  d.acceptor.emplace(d.ioc);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  d.acceptor->open(ep.protocol());
  d.acceptor->set_option(asio::socket_base::reuse_address(true));
  d.acceptor->bind(ep);
  d.acceptor->listen(asio::socket_base::max_listen_connections);
  std::uint16_t bound = d.acceptor->local_endpoint().port();
  d.accept();
  for (int i = 0; i <= d.threads; ++i) d.io_threads.emplace_back([&d] { d.ioc.run(); });
  return bound;
}

void HttpServer::stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.stopped) return;
    d.stopped = true;
  }
  if (d.acceptor) {
    asio::post(d.ioc, [&d] {
      beast::error_code ec;
      d.acceptor->close(ec);
    });
  }
  {
    std::lock_guard lock(d.mu);
    for (auto& w : d.sessions)
      if (auto s = w.lock()) s->close();
  }
  d.ioc.stop();
  for (auto& t : d.io_threads) t.join();
  d.io_threads.clear();
  // Requests left waiting hold their sessions, whose sockets must go before
  // the io_context does.
  std::lock_guard lock(d.dispatch.mu);
  d.dispatch.backlog.clear();
}

}  // namespace hubsync::sim
