//! One module per subcommand, each with its `Args` and `run`.

pub mod doctor;
pub mod extract;
pub mod models;
pub mod serve;
pub mod worker;
