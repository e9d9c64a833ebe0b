//! Integration tests, one binary (see GUIDE.md).

mod sim;
