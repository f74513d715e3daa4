//! Compliance with the law and the policy's promises on the staff side. Today: the lawful requests register
//! ([`lawful`]); data-subject requests live in `crate::privacy`, retention in `crate::retention`.

pub mod lawful;
