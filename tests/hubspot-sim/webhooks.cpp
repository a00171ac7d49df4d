#include "tests/hubspot-sim/webhooks.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>

#include "tests/hubspot-sim/json.h"
#include "tests/hubspot-sim/signatures.h"

namespace hubsync::sim {
namespace {

bool subscription_matches(const WebhookSubscription& s, const ChangeEvent& e) {
  if (!s.active) return false;
  auto dot = s.event_type.find('.');
  if (dot == std::string::npos) return false;
  std::string prefix = s.event_type.substr(0, dot), kind = s.event_type.substr(dot + 1);
  if (prefix != e.type_prefix) return false;
  if (kind != "*" && kind != e.kind) return false;
  if (e.type_prefix == "object" && !s.object_type_id.empty() && s.object_type_id != e.object_type_id)
    return false;
  if (e.kind == "propertyChange" && !s.property_name.empty() && s.property_name != e.property_name)
    return false;
  return true;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

WebhookDispatcher::WebhookDispatcher(Config cfg) : cfg_(std::move(cfg)) {
  if (cfg_.compression <= 0) cfg_.compression = 1;
}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

void WebhookDispatcher::start() {
  std::lock_guard lock(mu_);
  if (!workers_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < cfg_.concurrency; ++i) workers_.emplace_back([this] { worker(); });
}

void WebhookDispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard lock(mu_);
  while (!queue_.empty()) queue_.pop();
}

void WebhookDispatcher::set_target(const std::string& url) {
  std::lock_guard lock(mu_);
  target_ = url;
  refresh_active_locked();
}

std::string WebhookDispatcher::target() const {
  std::lock_guard lock(mu_);
  return target_;
}

void WebhookDispatcher::refresh_active_locked() { active_ = !target_.empty() && !subs_.empty(); }

std::int64_t WebhookDispatcher::add_subscription(WebhookSubscription sub) {
  std::lock_guard lock(mu_);
  sub.id = next_sub_id_++;
  subs_.push_back(sub);
  refresh_active_locked();
  return sub.id;
}

bool WebhookDispatcher::remove_subscription(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto n = std::erase_if(subs_, [&](const WebhookSubscription& s) { return s.id == id; });
  refresh_active_locked();
  return n > 0;
}

void WebhookDispatcher::clear_subscriptions() {
  std::lock_guard lock(mu_);
  subs_.clear();
  refresh_active_locked();
}

std::vector<WebhookSubscription> WebhookDispatcher::subscriptions() const {
  std::lock_guard lock(mu_);
  return subs_;
}

void WebhookDispatcher::enqueue(const std::vector<ChangeEvent>& events) {
  if (!active_ || events.empty()) return;
  std::lock_guard lock(mu_);
  Batch batch;
  batch.due = std::chrono::steady_clock::now();
  for (const auto& e : events) {
    for (const auto& s : subs_) {
      if (!subscription_matches(s, e)) continue;
      if (loss_pct_ > 0) {
        loss_state_ = loss_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        if (static_cast<int>((loss_state_ >> 33) % 100) < loss_pct_) {
          ++lost_;
          continue;
        }
      }
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      w.StartObject();
      w.Key("eventId");
      w.Int64(next_event_id_++);
      w.Key("subscriptionId");
      w.Int64(s.id);
      w.Key("portalId");
      w.Int64(cfg_.portal_id);
      w.Key("appId");
      w.Int64(cfg_.app_id);
      w.Key("occurredAt");
      w.Int64(e.occurred_at_ms);
      w.Key("subscriptionType");
      write_str(w, e.type_prefix + "." + e.kind);
      w.Key("attemptNumber");
      w.String("@ATTEMPT@");
      w.Key("objectId");
      w.Uint64(e.object_id);
      w.Key("changeFlag");
      w.String(e.kind == "creation" ? "CREATED" : e.kind == "deletion" ? "DELETED" : e.kind == "merge" ? "MERGED" : e.kind == "restore" ? "RESTORED" : "UPDATED");
      w.Key("changeSource");
      write_str(w, e.change_source);
      w.Key("sourceId");
      write_str(w, e.source_id);
      if (e.type_prefix == "object") {
        w.Key("objectTypeId");
        write_str(w, e.object_type_id);
      }
      if (e.kind == "propertyChange") {
        w.Key("propertyName");
        write_str(w, e.property_name);
        w.Key("propertyValue");
        write_str(w, e.property_value);
      } else if (e.kind == "merge") {
        w.Key("primaryObjectId");
        w.Uint64(e.primary_object_id);
        w.Key("mergedObjectIds");
        w.StartArray();
        for (auto id : e.merged_object_ids) w.Uint64(id);
        w.EndArray();
        w.Key("newObjectId");
        w.Uint64(e.new_object_id);
        w.Key("numberOfPropertiesMoved");
        w.Int(0);
      } else if (e.kind == "associationChange") {
        w.Key("associationType");
        write_str(w, e.association_type);
        w.Key("fromObjectId");
        w.Uint64(e.from_object_id);
        w.Key("toObjectId");
        w.Uint64(e.to_object_id);
        w.Key("associationRemoved");
        w.Bool(e.association_removed);
        w.Key("isPrimaryAssociation");
        w.Bool(false);
        w.Key("associationTypeId");
        w.Int(e.association_type_id);
      }
      w.EndObject();
      batch.events.emplace_back(sb.GetString(), sb.GetSize());
      events_++;
      if (batch.events.size() == 100) {
        for (int n = 0; n < copies_; ++n) queue_.push(batch);
        batch.events.clear();
      }
    }
  }
  if (!batch.events.empty())
    for (int n = 0; n < copies_; ++n) queue_.push(batch);
  cv_.notify_all();
}

bool WebhookDispatcher::deliver(const Batch& b, const std::string& url) {
  std::string body = "[";
  std::string attempt = std::to_string(b.attempt);
  for (size_t i = 0; i < b.events.size(); ++i) {
    if (i) body += ",";
    std::string ev = b.events[i];
    auto pos = ev.find("\"@ATTEMPT@\"");
    if (pos != std::string::npos) ev.replace(pos, 11, attempt);
    body += ev;
  }
  body += "]";
  // Signed on the portal's clock, as HubSpot signs on its own.
  const std::int64_t ts = cfg_.now ? cfg_.now()
                                   : std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  CURL* curl = curl_easy_init();
  if (!curl) return false;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("X-HubSpot-Signature: " + signature_v1(cfg_.secret, body)).c_str());
  headers = curl_slist_append(headers, "X-HubSpot-Signature-Version: v1");
  headers = curl_slist_append(headers,
                              ("X-HubSpot-Signature-v3: " + signature_v3(cfg_.secret, "POST", url, body, ts)).c_str());
  headers = curl_slist_append(headers, ("X-HubSpot-Request-Timestamp: " + std::to_string(ts)).c_str());
  headers = curl_slist_append(headers, "Expect:");
  // Compressed like the backoff, but never below 1 s: a loaded test machine
  // must not turn a slow-but-fine receiver into a retry.
  long timeout_ms = std::max(1000L, static_cast<long>(5000 / cfg_.compression));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nonsecure)");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK && status >= 200 && status < 300;
}

void WebhookDispatcher::worker() {
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = queue_.top().due;
    if (due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, due);
      continue;
    }
    Batch b = queue_.top();
    queue_.pop();
    std::string url = target_;
    ++in_flight_;
    lock.unlock();
    bool ok = !url.empty() && deliver(b, url);
    lock.lock();
    --in_flight_;
    if (ok) {
      deliveries_++;
      cfg_.log->debug("webhook delivered events={} attempt={}", b.events.size(), b.attempt);
    } else {
      failures_++;
      cfg_.log->warn("webhook delivery failed events={} attempt={}", b.events.size(), b.attempt);
      if (b.attempt + 1 < cfg_.max_attempts && !stopping_) {
        retries_++;
        // HubSpot spreads 10 retries over 24 h; 1 s * 2^attempt (capped) here.
        double delay_ms = std::min(1000.0 * std::pow(2.0, b.attempt), 3600000.0) / cfg_.compression;
        b.attempt++;
        b.due = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(delay_ms));
        queue_.push(std::move(b));
        cv_.notify_all();
      } else {
        dropped_++;
        cfg_.log->warn("webhook batch dropped events={} attempts={}", b.events.size(), b.attempt + 1);
      }
    }
    if (queue_.empty() && in_flight_ == 0) idle_cv_.notify_all();
  }
}

bool WebhookDispatcher::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && in_flight_ == 0; });
}

void WebhookDispatcher::add_stats(CountersSnapshot& c) const {
  c.webhook_events = events_;
  c.webhook_deliveries = deliveries_;
  c.webhook_failures = failures_;
  c.webhook_retries = retries_;
  c.webhook_dropped = dropped_;
  c.webhook_lost = lost_;
}

void WebhookDispatcher::reset_stats() {
  events_ = 0;
  deliveries_ = 0;
  failures_ = 0;
  retries_ = 0;
  dropped_ = 0;
  lost_ = 0;
}

}  // namespace hubsync::sim
