//! The billing use cases share one service.

use std::sync::Arc;

use super::money::Currency;
use super::ports::PaymentGateway;
use super::top_up::Provider;
use crate::clock::Clock;
use crate::store::Store;

/// Billing settings.
#[derive(Debug, Clone)]
pub struct BillingConfig {
    /// The currency wallets are kept in; top-ups in another currency are refused.
    pub currency: Currency,
    /// The largest single top-up, in minor units.
    pub max_top_up_minor: i64,
    /// Top-ups a workspace may start per hour.
    pub top_ups_per_hour: u64,
    /// A charge that takes the wallet below this (minor units) tells the owner; 0 turns it off.
    pub low_balance_minor: i64,
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self {
            currency: Currency::USD,
            max_top_up_minor: 100_000_000, // 1,000,000.00
            top_ups_per_hour: 20,
            low_balance_minor: 500,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BillingService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) gateways: Vec<Arc<dyn PaymentGateway>>,
    pub(crate) config: BillingConfig,
}

impl BillingService {
    /// `gateways` are the configured providers; a provider without one refuses top-ups with a clear error.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        gateways: Vec<Arc<dyn PaymentGateway>>,
        config: BillingConfig,
    ) -> Self {
        Self {
            store,
            clock,
            gateways,
            config,
        }
    }

    pub fn currency(&self) -> Currency {
        self.config.currency
    }

    pub(crate) fn gateway(&self, provider: Provider) -> Option<&Arc<dyn PaymentGateway>> {
        self.gateways.iter().find(|g| g.provider() == provider)
    }
}
