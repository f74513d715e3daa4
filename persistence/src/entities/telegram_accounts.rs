use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "telegram_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub status: String,
    pub sandbox: bool,
    pub display_name: Option<String>,
    pub username: Option<String>,
    pub phone_masked: Option<String>,
    pub country: Option<String>,
    pub premium: bool,
    pub account_created: Option<Date>,
    pub dc_id: i16,
    pub telegram_user_id: Option<i64>,
    pub key_fingerprint: Vec<u8>,
    pub key_owner: String,
    pub key_version: i32,
    pub sealed_session: Vec<u8>,
    pub price_per_day_minor: i64,
    pub currency: String,
    pub leased_to: Option<Uuid>,
    pub leased_since: Option<DateTimeUtc>,
    pub leased_until: Option<DateTimeUtc>,
    pub retiring_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
