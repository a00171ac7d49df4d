// The only translation unit of hubsync that includes Beast (each one costs
// ~10 s and ~0.5 GB to compile): everything else sees http_types.h.
#include "engine/webhook/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/ops/metrics.h"

namespace hubsync::webhook {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const char* to_string(AbortReason r) {
  switch (r) {
    case AbortReason::header_timeout: return "header_timeout";
    case AbortReason::body_timeout: return "body_timeout";
    case AbortReason::truncated: return "truncated";
    case AbortReason::header_too_large: return "header_too_large";
    case AbortReason::body_too_large: return "body_too_large";
    case AbortReason::bad_request: return "bad_request";
    case AbortReason::over_capacity: return "over_capacity";
  }
  return "unknown";
}

namespace {

constexpr AbortReason kAllReasons[] = {
    AbortReason::header_timeout,   AbortReason::body_timeout, AbortReason::truncated,
    AbortReason::header_too_large, AbortReason::body_too_large, AbortReason::bad_request,
    AbortReason::over_capacity};

// After an answer sent without reading the whole request, the unread bytes
// would make close() send a reset that can destroy the answer in flight:
// half-close and drain for at most this long first.
constexpr std::chrono::milliseconds kLingerMax{1000};

class Session;

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions opt;
  HttpHandler& handler;
  std::shared_ptr<spdlog::logger> log;
  ops::Counter* refused = nullptr;
  ops::Gauge* open_gauge = nullptr;
  std::vector<ops::Counter*> aborted;  // by AbortReason

  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>();
  // The acceptor and its retry timer live on one strand: their handlers and
  // the closes of stop_accepting() and stop() never run at once on two io
  // threads (a close racing another close or an accept corrupted the reactor).
  std::optional<asio::strand<asio::io_context::executor_type>> accept_strand;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::vector<std::thread> threads;
  std::optional<asio::thread_pool> workers;  // for requests the handler says block
  std::atomic<std::size_t> open{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::vector<std::weak_ptr<Session>> sessions;
  bool started = false;
  bool stopped = false;

  Impl(HttpServerOptions o, HttpHandler& h, std::shared_ptr<spdlog::logger> l)
      : opt(std::move(o)), handler(h), log(std::move(l)) {}

  void count_abort(const RequestHead* head, AbortReason r) {
    if (!aborted.empty()) aborted[static_cast<std::size_t>(r)]->inc();
    handler.on_abort(head, r);
  }
  void accept();
  // Closes the acceptor on its strand (no-op when never started).
  void close_acceptor() {
    if (!acceptor) return;
    asio::post(*accept_strand, [this] {
      beast::error_code ec;
      acceptor->close(ec);
      accept_retry->cancel();
    });
  }
  void track(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mu);
    std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    sessions.push_back(s);
  }
};

namespace {

std::string peer_of(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server, bool counted)
      : stream_(std::move(socket)), server_(server), counted_(counted) {
    remote_ = peer_of(stream_.socket());
  }
  ~Session() {
    if (counted_) {
      server_.open.fetch_sub(1);
      if (server_.open_gauge != nullptr) server_.open_gauge->dec();
    }
  }

  void start() {
    if (!counted_) {
      refuse();
      return;
    }
    read_header();
  }

  /// Closes the socket from any thread (posted to the session's strand).
  void close_async() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
  }

 private:
  void refuse() {
    server_.count_abort(nullptr, AbortReason::over_capacity);
    Response r;
    r.status = 503;
    r.body = "too many connections\n";
    r.headers.emplace_back("Retry-After", "1");
    write(std::move(r), true);
  }

  void read_header() {
    if (server_.stopping.load()) {
      close_now();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.opt.max_header_bytes));
    // The body limit is applied after the handler has seen the header (so
    // that a wrong method or path is answered as such, not as 413).
    parser_->body_limit(boost::none);
    stream_.expires_after(server_.opt.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) {
      const bool got_some = parser_->got_some() || buffer_.size() > 0;
      if (ec == beast::error::timeout) {
        // An idle keep-alive connection timing out is normal; a partial
        // header block is a slow (or slowloris) client.
        if (got_some) server_.count_abort(nullptr, AbortReason::header_timeout);
        close_now();
      } else if (ec == http::error::header_limit) {
        server_.count_abort(nullptr, AbortReason::header_too_large);
        write_plain(431, "request header fields too large\n");
      } else if (ec == http::error::end_of_stream || ec == asio::error::eof ||
                 ec == http::error::partial_message || ec == asio::error::connection_reset ||
                 ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
        if (got_some && ec != asio::error::operation_aborted)
          server_.count_abort(nullptr, AbortReason::truncated);
        close_now();
      } else {
        server_.count_abort(nullptr, AbortReason::bad_request);
        write_plain(400, "bad request\n");
      }
      return;
    }
    const auto& msg = parser_->get();
    head_ = RequestHead{};
    head_.method = std::string(msg.method_string());
    head_.target = std::string(msg.target());
    const auto q = head_.target.find('?');
    head_.path = head_.target.substr(0, q);
    if (q != std::string::npos) head_.query = head_.target.substr(q);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      head_.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    if (auto len = parser_->content_length()) head_.content_length = *len;
    head_.remote = remote_;
    head_.received_at = std::chrono::steady_clock::now();
    keep_alive_ = msg.keep_alive();

    if (auto early = server_.handler.on_head(head_)) {
      early->close = true;
      write(std::move(*early), true);
      return;
    }
    if (head_.content_length && *head_.content_length > server_.opt.max_body_bytes) {
      server_.count_abort(&head_, AbortReason::body_too_large);
      write_plain(413, "payload too large\n");
      return;
    }
    if (const auto* expect = head_.header("expect")) {
      std::string e = *expect;
      for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (e == "100-continue") {
        continue_.emplace(http::status::continue_, 11);
        stream_.expires_after(server_.opt.body_timeout);
        http::async_write(stream_, *continue_,
                          [self = shared_from_this()](beast::error_code wec, std::size_t) {
                            if (wec) return self->close_now();
                            self->read_body();
                          });
        return;
      }
    }
    read_body();
  }

  void read_body() {
    parser_->body_limit(static_cast<std::uint64_t>(server_.opt.max_body_bytes));
    stream_.expires_after(server_.opt.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_body(ec);
                     });
  }

  void on_body(beast::error_code ec) {
    if (ec) {
      if (ec == beast::error::timeout) {
        // The stream closed the socket already: no answer is possible.
        server_.count_abort(&head_, AbortReason::body_timeout);
        close_now();
      } else if (ec == http::error::body_limit) {
        server_.count_abort(&head_, AbortReason::body_too_large);
        write_plain(413, "payload too large\n");
      } else if (ec == http::error::end_of_stream || ec == asio::error::eof ||
                 ec == http::error::partial_message || ec == asio::error::connection_reset) {
        server_.count_abort(&head_, AbortReason::truncated);
        close_now();
      } else if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
        close_now();  // the server is stopping
      } else {
        server_.count_abort(&head_, AbortReason::bad_request);
        write_plain(400, "bad request\n");
      }
      return;
    }
    Request req;
    req.head = std::move(head_);
    req.body = std::move(parser_->get().body());
    if (server_.workers && server_.handler.blocks(req.head)) {
      // Answered on a worker; the answer is written on this session's strand.
      asio::post(*server_.workers, [self = shared_from_this(), req = std::move(req)] {
        asio::post(self->stream_.get_executor(),
                   [self, resp = self->server_.handler.on_request(req)]() mutable { self->answer(std::move(resp)); });
      });
      return;
    }
    answer(server_.handler.on_request(req));
  }

  void answer(Response resp) {
    const bool close = resp.close || !keep_alive_ || server_.stopping.load();
    write(std::move(resp), close);
  }

  void write_plain(int status, const char* text) {
    Response r;
    r.status = status;
    r.body = text;
    write(std::move(r), true);
  }

  void write(Response r, bool close) {
    close_after_ = close;
    res_.emplace(static_cast<http::status>(r.status), 11);
    res_->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res_->set(k, v);
    res_->body() = std::move(r.body);
    res_->keep_alive(!close);
    res_->prepare_payload();
    stream_.expires_after(server_.opt.body_timeout);
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close_now();
      if (self->close_after_) return self->linger_close();
      self->read_header();
    });
  }

  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    stream_.expires_after(std::min(kLingerMax, server_.opt.body_timeout));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close_now();
                              self->drain();
                            });
  }

  void close_now() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  bool counted_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> res_;
  RequestHead head_;
  bool keep_alive_ = true;
  bool close_after_ = false;
  std::array<char, 4096> discard_{};
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor->async_accept(asio::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping.load() || !acceptor->is_open()) return;
    if (ec) {
      // Out of descriptors and the like: wait a little instead of spinning.
      log->warn("http accept failed error={}", ec.message());
      accept_retry->expires_after(std::chrono::milliseconds(100));
      accept_retry->async_wait([this](beast::error_code wec) {
        if (!wec) accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const bool counted = open.fetch_add(1) < opt.max_connections;
    if (counted) {
      if (open_gauge != nullptr) open_gauge->inc();
    } else {
      open.fetch_sub(1);
      if (refused != nullptr) refused->inc();
    }
    auto s = std::make_shared<Session>(std::move(socket), *this, counted);
    track(s);
    s->start();
    accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler,
                       std::shared_ptr<spdlog::logger> log, ops::Registry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), handler, std::move(log))) {
  if (metrics != nullptr) {
    impl_->open_gauge = &metrics->gauge("hubsync_http_connections_open", "HTTP connections open now.").get();
    impl_->refused = &metrics
                          ->counter("hubsync_http_connections_refused_total",
                                    "Connections answered 503 because max_connections were open.")
                          .get();
    auto& fam = metrics->counter("hubsync_http_aborted_requests_total",
                                 "Requests ended by the server's limits or a broken peer, by reason.",
                                 {"reason"});
    for (auto r : kAllReasons) impl_->aborted.push_back(&fam.with({to_string(r)}));
  }
}

HttpServer::~HttpServer() { stop(); }

model::Result<std::uint16_t> HttpServer::start() {
  auto& d = *impl_;
  beast::error_code ec;
  const std::string host = d.opt.host == "localhost" ? "127.0.0.1" : d.opt.host;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    return model::make_error(model::ErrorKind::fatal,
                             fmt::format("listen address '{}' is not an IP address", d.opt.host));
  }
  const tcp::endpoint ep(addr, d.opt.port);
  d.accept_strand.emplace(asio::make_strand(*d.ioc));
  d.acceptor.emplace(*d.accept_strand);
  d.accept_retry.emplace(*d.accept_strand);
  d.acceptor->open(ep.protocol(), ec);
  if (!ec) d.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) d.acceptor->bind(ep, ec);
  if (!ec) d.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return model::make_error(model::ErrorKind::fatal,
                             fmt::format("cannot listen on {}:{}: {}", d.opt.host, d.opt.port, ec.message()));
  }
  const std::uint16_t bound = d.acceptor->local_endpoint().port();
  d.accept();
  d.started = true;
  if (d.opt.worker_threads > 0) d.workers.emplace(static_cast<std::size_t>(d.opt.worker_threads));
  for (int i = 0; i < std::max(1, d.opt.io_threads); ++i) d.threads.emplace_back([&d] { d.ioc->run(); });
  return bound;
}

void HttpServer::stop_accepting() {
  auto& d = *impl_;
  std::lock_guard lock(d.mu);
  if (d.stopped) return;
  d.close_acceptor();
}

void HttpServer::stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.stopped) return;
    d.stopped = true;
  }
  d.stopping = true;
  d.close_acceptor();
  {
    std::lock_guard lock(d.mu);
    for (auto& w : d.sessions)
      if (auto s = w.lock()) s->close_async();
  }
  d.ioc->stop();
  for (auto& t : d.threads) t.join();
  d.threads.clear();
  if (d.workers) {
    // Requests being answered finish their handler call; those still
    // waiting for a worker are dropped unanswered, like the io threads' own.
    d.workers->stop();
    d.workers->join();
    d.workers.reset();
  }
  // Pending handlers own the sessions: destroy them (and the sockets) now,
  // while everything they refer to is still alive.
  d.accept_retry.reset();
  d.acceptor.reset();
  d.accept_strand.reset();
  d.ioc.reset();
}

std::size_t HttpServer::open_connections() const { return impl_->open.load(); }

}  // namespace hubsync::webhook
