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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
