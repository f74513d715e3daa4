use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automation_executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub automation_id: Uuid,
    pub automation_version: i32,
    pub status: String,
    pub reason: Option<String>,
    pub trigger_key: String,
    pub account_id: Option<Uuid>,
    pub dialog_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub context: String,
    pub steps: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
