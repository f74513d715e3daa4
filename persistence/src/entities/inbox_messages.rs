use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub peer_key: i64,
    pub sequence_key: i64,
    pub telegram_id: Option<i32>,
    pub direction: String,
    pub text: String,
    pub sent_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    pub reply_to: Option<i32>,
    pub status: String,
    pub failure: Option<String>,
    pub deleted_at: Option<DateTimeUtc>,
    pub edit_history: String,
    pub media_kind: Option<String>,
    pub media_file_name: Option<String>,
    pub media_size_bytes: Option<i64>,
    pub media_mime_type: Option<String>,
    pub media_width: Option<i32>,
    pub media_height: Option<i32>,
    pub media_duration_secs: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
