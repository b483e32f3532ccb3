//! Integration tests: the real `ferret` binary on files and git repositories created in
//! temporary directories. Each test gets its own directory through the `dir()` helper.

mod accuracy;
mod ci;
mod common;
mod detect;
mod history;
mod robust;
mod scan;
mod staged;
