pub mod charge;
pub mod grant;
pub mod reverse;
pub mod settle;
pub mod top_ups;
pub mod wallet;
