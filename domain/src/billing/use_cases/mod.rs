pub mod charge;
pub mod settle;
pub mod top_ups;
pub mod wallet;
