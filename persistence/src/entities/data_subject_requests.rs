use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_subject_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub status: String,
    pub channel: String,
    pub details: Option<String>,
    pub received_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub extended_until: Option<DateTimeUtc>,
    pub extension_reason: Option<String>,
    pub completed_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
    pub export_token_hash: Option<Vec<u8>>,
    pub export_ready_at: Option<DateTimeUtc>,
    pub export_expires_at: Option<DateTimeUtc>,
    pub export_expired_at: Option<DateTimeUtc>,
    pub export_bytes: Option<i64>,
    pub updated_at: DateTimeUtc,
    pub verification_method: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
    pub verified_by: Option<Uuid>,
    pub erasure_proposed_by: Option<Uuid>,
    pub erasure_proposed_at: Option<DateTimeUtc>,
    pub erasure_approved_by: Option<Uuid>,
    pub erasure_approved_at: Option<DateTimeUtc>,
    pub decision: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
