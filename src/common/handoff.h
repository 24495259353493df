// Handoff<T>: hands the newest value from producer threads to one consumer thread that must
// never wait or allocate (the agent's data path).
//
//   producer  post(value)  builds a node (allocates), replaces any value not yet taken, and
//                          frees the nodes the consumer let go of
//   consumer  take()       swaps in the newest posted value, if any: two atomic exchanges,
//                          no lock, no allocation; the previous value goes to a list that
//                          the producer frees on its next post (or the destructor)
//             current()    the value taken last (nullptr before the first)
//
// Producers serialise among themselves (the caller's lock); there is one consumer. The
// retired list is a lock-free stack that the producer empties whole with one exchange, so
// no node is ever popped alone and ABA cannot arise.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

namespace tmirror {

template <typename T>
class Handoff {
 public:
  Handoff() = default;
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // Only when no thread uses it any more.
  ~Handoff() {
    delete current_;
    delete pending_.load(std::memory_order_acquire);
    freeRetired();
  }

  // Producer side.
  void post(T value) {
    freeRetired();
    auto* node = new Node{std::move(value), nullptr};
    // A node that was still pending was never seen by the consumer (it takes by exchange).
    delete pending_.exchange(node, std::memory_order_acq_rel);
  }

  // Consumer side: true when a newer value was taken.
  bool take() {
    if (pending_.load(std::memory_order_relaxed) == nullptr) {
      return false;
    }
    Node* next = pending_.exchange(nullptr, std::memory_order_acquire);
    if (next == nullptr) {
      return false;
    }
    if (current_ != nullptr) {
      current_->next = retired_.load(std::memory_order_relaxed);
      while (!retired_.compare_exchange_weak(current_->next, current_, std::memory_order_release,
                                             std::memory_order_relaxed)) {
      }
    }
    current_ = next;
    return true;
  }

  const T* current() const { return current_ != nullptr ? &current_->value : nullptr; }

 private:
  struct Node {
    T value;
    Node* next;
  };

  void freeRetired() {
    Node* node = retired_.exchange(nullptr, std::memory_order_acquire);
    while (node != nullptr) {
      Node* next = node->next;
      delete node;
      node = next;
    }
  }

  std::atomic<Node*> pending_{nullptr};
  std::atomic<Node*> retired_{nullptr};
  Node* current_ = nullptr;  // the consumer's
};

}  // namespace tmirror
