// Per-thread size-class pools with remote frees (see envelope_pool.hpp for why).
//
// Thread caches are never destroyed: when a thread exits, its cache goes to a reuse list and
// the next new thread adopts it, so blocks still in flight (freed later by other threads into
// that cache's remote lists) are never lost and memory stays bounded by the number of threads
// alive at once.
#include <cineyma/detail/envelope_pool.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CINEYMA_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CINEYMA_POOL_DISABLED 1
#endif
#endif

namespace cineyma::detail {

#if defined(CINEYMA_POOL_DISABLED)

void* envelope_alloc(std::size_t size) { return ::operator new(size); }
void envelope_free(void* p, std::size_t) noexcept { ::operator delete(p); }

#else

namespace {

constexpr std::size_t kClassBytes = 64;  // block sizes 64, 128, 192, 256 (header included)
constexpr std::size_t kClasses = 4;
constexpr std::size_t kSlabBytes = 1024;  // fresh blocks come in slabs of this size

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadCache;

/// Precedes every pooled block; 16 bytes keeps the payload max_align_t aligned.
struct alignas(16) Header {
  ThreadCache* owner;
};
static_assert(sizeof(Header) == 16);

struct alignas(64) ThreadCache {
  FreeBlock* local[kClasses] = {};  // owner only
  // Blocks freed by other threads; owner drains with one exchange. Push-only from outside,
  // so there is no ABA.
  alignas(64) std::atomic<FreeBlock*> remote[kClasses] = {};
  ThreadCache* next_unused = nullptr;  // reuse list (guarded by registry_mutex)
};

std::mutex& registry_mutex() {
  static auto* m = new std::mutex;  // never destroyed: thread exits may run after main returns
  return *m;
}
ThreadCache* unused_caches = nullptr;

ThreadCache* adopt_cache() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  if (ThreadCache* c = unused_caches) {
    unused_caches = c->next_unused;
    c->next_unused = nullptr;
    return c;
  }
  return new ThreadCache;
}

void retire_cache(ThreadCache* c) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  c->next_unused = unused_caches;
  unused_caches = c;
}

void push_remote(ThreadCache* owner, std::size_t c, FreeBlock* first, FreeBlock* last) noexcept {
  FreeBlock* head = owner->remote[c].load(std::memory_order_relaxed);
  do {
    last->next = head;
  } while (!owner->remote[c].compare_exchange_weak(head, first, std::memory_order_release,
                                                   std::memory_order_relaxed));
}

/// Blocks freed on this thread for another owner, returned in chains: one CAS on the owner's
/// list per chain instead of per block (each CAS moves that cache line between cores).
struct PendingRemote {
  static constexpr int kMaxChain = 32;
  ThreadCache* owner = nullptr;
  std::size_t size_class = 0;
  FreeBlock* first = nullptr;
  FreeBlock* last = nullptr;
  int length = 0;

  void flush() noexcept {
    if (first != nullptr) push_remote(owner, size_class, first, last);
    first = last = nullptr;
    length = 0;
  }
  void add(ThreadCache* o, std::size_t c, FreeBlock* b) noexcept {
    if (first != nullptr && (o != owner || c != size_class)) flush();
    owner = o;
    size_class = c;
    b->next = first;
    first = b;
    if (last == nullptr) last = b;
    if (++length == kMaxChain) flush();
  }
};

struct CacheHolder {
  ThreadCache* cache = nullptr;
  PendingRemote pending;
  ~CacheHolder() {
    pending.flush();
    if (cache) retire_cache(cache);
  }
};
thread_local CacheHolder tl_holder;

ThreadCache* my_cache() {
  ThreadCache*& c = tl_holder.cache;
  if (c == nullptr) c = adopt_cache();
  return c;
}

/// A new slab carved into a chain of blocks of class `c`. Slabs are cache-line aligned so
/// that a block never straddles two lines (a straddling envelope costs two cross-core
/// transfers instead of one each way). Like every pooled block, they are never given back.
FreeBlock* refill(std::size_t c) {
  const std::size_t block = (c + 1) * kClassBytes;
  const std::size_t n = std::max<std::size_t>(kSlabBytes / block, 1);
  auto* slab = static_cast<std::byte*>(::operator new(n * block, std::align_val_t{kClassBytes}));
  FreeBlock* list = nullptr;
  for (std::size_t i = n; i-- > 0;) {
    auto* b = reinterpret_cast<FreeBlock*>(slab + i * block);
    b->next = list;
    list = b;
  }
  return list;
}

constexpr std::size_t class_of(std::size_t size) noexcept {
  return (size + sizeof(Header) - 1) / kClassBytes;
}
constexpr bool pooled(std::size_t size) noexcept { return class_of(size) < kClasses; }

}  // namespace

void* envelope_alloc(std::size_t size) {
  if (!pooled(size)) return ::operator new(size);
  const std::size_t c = class_of(size);
  ThreadCache* tc = my_cache();
  FreeBlock* b = tc->local[c];
  if (b == nullptr) b = tc->remote[c].exchange(nullptr, std::memory_order_acquire);
  if (b == nullptr) b = refill(c);
  FreeBlock* next = b->next;
  tc->local[c] = next;
  // A block that came back from another thread is in that thread's cache, and popping the
  // list reads it: start fetching the next one now, so that the next allocation waits less.
  if (next != nullptr) __builtin_prefetch(next, 1, 3);
  Header* h = reinterpret_cast<Header*>(b);
  h->owner = tc;
  return h + 1;
}

void envelope_free(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (!pooled(size)) {
    ::operator delete(p);
    return;
  }
  const std::size_t c = class_of(size);
  Header* h = static_cast<Header*>(p) - 1;
  ThreadCache* owner = h->owner;
  auto* b = reinterpret_cast<FreeBlock*>(h);
  if (owner == tl_holder.cache) {
    b->next = owner->local[c];
    owner->local[c] = b;
    return;
  }
  // At most kMaxChain blocks per thread wait here; the owner allocates fresh ones meanwhile.
  tl_holder.pending.add(owner, c, b);
}

#endif

}  // namespace cineyma::detail
