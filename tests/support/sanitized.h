#pragma once

namespace hubsync::test {

// True in the AddressSanitizer build (the asan preset), where code runs about
// ten times slower. A randomised test that the release build runs in full may
// run fewer rounds there: the sanitizer looks for memory errors, which the
// first rounds already reach; the rounds after them are for rare orders.
inline constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif

}  // namespace hubsync::test
