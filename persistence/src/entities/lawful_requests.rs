use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lawful_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub authority: String,
    pub reference: String,
    pub legal_basis: String,
    pub received_on: Date,
    pub due_on: Date,
    pub scope_users: String,
    pub scope_workspaces: String,
    pub scope_categories: String,
    pub period_from: DateTimeUtc,
    pub period_to: DateTimeUtc,
    pub notes: Option<String>,
    pub registered_by: Uuid,
    pub registered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
