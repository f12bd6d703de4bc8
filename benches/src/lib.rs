//! Placeholder: the benches are being written (issue 4).
