use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automation_triggers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub automation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_key: String,
    pub workspace_id: Uuid,
    pub trigger_kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
