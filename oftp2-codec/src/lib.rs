//! A no-I/O codec for the ODETTE File Transfer Protocol 2 (RFC 5024).
