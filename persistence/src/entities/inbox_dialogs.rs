use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_dialogs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Uuid,
    pub peer_key: i64,
    pub title: String,
    pub username: Option<String>,
    pub unread_count: i32,
    pub read_inbox_max_id: i32,
    pub top_message_id: i32,
    pub last_message_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    pub assignee_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
