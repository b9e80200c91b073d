//! Adapters: the ports implemented on real infrastructure. `embedded` runs everything in
//! one process on a SQLite file and a mail folder.

pub mod embedded;
