#pragma once
// Thread-locals of the engine use the initial-exec model: the engine library
// is loaded once (at start-up or with the Python module), and it saves a
// __tls_get_addr call on every message.
#define NOEXPP_TLS thread_local __attribute__((tls_model("initial-exec")))
