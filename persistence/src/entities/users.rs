use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub email_key: String,
    pub full_name: String,
    pub username: String,
    pub username_key: String,
    pub password_hash: String,
    pub is_staff: bool,
    pub totp_secret_sealed: Option<Vec<u8>>,
    pub totp_pending_sealed: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub created_at: DateTimeUtc,
    pub email_verified_at: Option<DateTimeUtc>,
    pub pending_email: Option<String>,
    pub age_confirmed_at: Option<DateTimeUtc>,
    pub policy_version: Option<String>,
    pub notify_billing: bool,
    pub notify_leases: bool,
    pub closed_at: Option<DateTimeUtc>,
    pub erase_after: Option<DateTimeUtc>,
    pub restricted_at: Option<DateTimeUtc>,
    pub suspended_at: Option<DateTimeUtc>,
    pub suspension_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
