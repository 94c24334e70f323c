#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ami::fuzzing::http_response(data));
