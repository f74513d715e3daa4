//! The MTProto gateway: connects accounts to Telegram with their sealed sessions.

use std::sync::Arc;

use async_trait::async_trait;
use tgos_domain::accounts::TelegramSession;
use tgos_domain::accounts::gateway::{GatewayConnection, GatewayError, LoginFlow, TelegramGateway};
use tgos_domain::ids::AccountId;

use super::config::MtprotoConfig;

/// Connects accounts to Telegram over MTProto.
#[derive(Debug, Clone)]
pub struct MtprotoGateway {
    config: MtprotoConfig,
}

impl MtprotoGateway {
    pub fn new(config: MtprotoConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &MtprotoConfig {
        &self.config
    }
}

#[async_trait]
impl TelegramGateway for MtprotoGateway {
    async fn connect(
        &self,
        _account: AccountId,
        _session: &TelegramSession,
    ) -> Result<Arc<dyn GatewayConnection>, GatewayError> {
        Err(GatewayError::Network("the MTProto gateway is being built".to_owned()))
    }

    fn is_sandbox(&self) -> bool {
        false
    }

    async fn begin_login(&self) -> Result<Box<dyn LoginFlow>, GatewayError> {
        Err(GatewayError::Network("the MTProto gateway is being built".to_owned()))
    }
}
