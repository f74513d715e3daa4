//! The MTProto gateway: connects accounts to Telegram with their sealed sessions, and signs accounts in.
//!
//! Rules:
//! - Each connection has its own sender pool and in-memory session; nothing is written to disk.
//! - The client introduces itself honestly and the same way for every account: the product's name and
//!   version and the server's operating system (no per-account device or fingerprint).
//! - A connection is usable only once Telegram has accepted the key (the account's own user is read first);
//!   a refused key is `SessionInvalid` and the connection is not kept.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use grammers_client::Client;
use grammers_mtsender::{ConnectionParams, SenderPool, UpdatesConfiguration};
use grammers_session::Session as _;
use grammers_session::storages::MemorySession;
use grammers_session::types::{UpdateState as GrammersState, UpdatesState};
use grammers_session::updates::MessageBox;
use grammers_tl_types as tl;
use tgos_domain::accounts::TelegramSession;
use tgos_domain::accounts::gateway::{
    GatewayConnection, GatewayError, GatewayUpdate, LoginFlow, Peer, StampedUpdate, TelegramGateway, UpdateFanout,
};
use tgos_domain::ids::AccountId;

use super::config::MtprotoConfig;
use super::connection::{self, MtprotoConnection, Position};
use super::convert::{self, Converted};
use super::errors::classify;
use super::login::MtprotoLogin;
use super::retry::WaitOnceThenSurface;
use super::session;
use super::state::CommonState;

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

    /// Signs `session` out of Telegram (`auth.logOut`): its auth key stops working everywhere. For sessions
    /// that are retired for good; a session that is only disconnected stays valid.
    pub async fn log_out(&self, session: &TelegramSession) -> Result<(), GatewayError> {
        let memory = Arc::new(MemorySession::from(session::to_grammers(session)));
        let (client, _updates, running) = start_client(memory, self.config.api_id());
        let outcome = client.invoke(&tl::functions::auth::LogOut {}).await;
        client.disconnect();
        running.abort();
        outcome.map(|_| ()).map_err(|e| classify(&e))
    }
}

/// How the client introduces itself to Telegram (see the module docs).
pub(super) fn client_parameters() -> ConnectionParams {
    ConnectionParams {
        device_model: "Telegram OS server".to_owned(),
        system_version: std::env::consts::OS.to_owned(),
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        retry_policy: Box::new(WaitOnceThenSurface),
        ..ConnectionParams::default()
    }
}

/// A client on `session_data`, its sender pool running; the receiver of its updates.
pub(super) fn start_client(
    memory: Arc<MemorySession>,
    api_id: i32,
) -> (
    Client,
    tokio::sync::mpsc::Receiver<grammers_session::updates::UpdatesLike>,
    tokio::task::JoinHandle<()>,
) {
    let SenderPool {
        runner,
        handle,
        updates,
    } = SenderPool::with_configuration(memory, api_id, client_parameters());
    let running = tokio::spawn(runner.run());
    (Client::new(handle), updates, running)
}

#[async_trait]
impl TelegramGateway for MtprotoGateway {
    async fn connect(
        &self,
        account: AccountId,
        session: &TelegramSession,
    ) -> Result<Arc<dyn GatewayConnection>, GatewayError> {
        let memory = Arc::new(MemorySession::from(session::to_grammers(session)));
        let (client, updates, running) = start_client(Arc::clone(&memory), self.config.api_id());
        let opened = open(&client, &memory, updates).await;
        let (me, position, pump_fanout, stream) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                client.disconnect();
                running.abort();
                return Err(error);
            }
        };
        let position = Arc::new(Mutex::new(position));
        let original = TelegramSession::decode(&session.encode())
            .map_err(|_| GatewayError::Other("the session could not be copied".to_owned()))?;
        let pump = tokio::spawn(pump_updates(
            client.clone(),
            Arc::clone(&memory),
            stream,
            pump_fanout.clone(),
            Arc::clone(&position),
        ));
        Ok(Arc::new(MtprotoConnection {
            account,
            fanout: Arc::downgrade(&pump_fanout),
            client,
            session: memory,
            original,
            me,
            position,
            sent: Mutex::new(HashMap::new()),
            tasks: Mutex::new(vec![running, pump]),
            closed: AtomicBool::new(false),
        }))
    }

    fn is_sandbox(&self) -> bool {
        false
    }

    async fn begin_login(&self) -> Result<Box<dyn LoginFlow>, GatewayError> {
        Ok(Box::new(MtprotoLogin::new(self.config.clone())))
    }
}

type Opened = (Peer, Position, Arc<UpdateFanout>, grammers_client::client::UpdateStream);

/// Reads the account's own user (Telegram accepting the key), its update state, and starts its update stream.
async fn open(
    client: &Client,
    memory: &Arc<MemorySession>,
    updates: tokio::sync::mpsc::Receiver<grammers_session::updates::UpdatesLike>,
) -> Result<Opened, GatewayError> {
    let users = client
        .invoke(&tl::functions::users::GetUsers {
            id: vec![tl::enums::InputUser::UserSelf],
        })
        .await
        .map_err(|e| classify(&e))?;
    let me = users
        .iter()
        .find_map(|user| match user {
            tl::enums::User::User(user) => convert::user_peer(user),
            tl::enums::User::Empty(_) => None,
        })
        .ok_or(GatewayError::SessionInvalid)?;
    connection::cache(memory, &users, &[]).await;
    let tl::enums::updates::State::State(state) = client
        .invoke(&tl::functions::updates::GetState {})
        .await
        .map_err(|e| classify(&e))?;
    let _memory_cannot_fail = memory
        .set_update_state(GrammersState::All(UpdatesState {
            pts: state.pts,
            qts: state.qts,
            date: state.date,
            seq: state.seq,
            channels: Vec::new(),
        }))
        .await;
    let stream = client
        .stream_updates(updates, UpdatesConfiguration { catch_up: false })
        .await
        .map_err(|_| GatewayError::Network("the update stream could not start".to_owned()))?;
    let position = Position {
        common: CommonState {
            pts: state.pts,
            date: state.date,
        },
        qts: state.qts,
    };
    Ok((me, position, connection::fanout(), stream))
}

/// Publishes the account's updates in order until the connection ends; then the fan-out is dropped and every
/// subscriber's stream ends.
async fn pump_updates(
    client: Client,
    memory: Arc<MemorySession>,
    mut stream: grammers_client::client::UpdateStream,
    fanout: Arc<UpdateFanout>,
    position: Arc<Mutex<Position>>,
) {
    while let Ok((update, state, _peers)) = stream.next_raw().await {
        let stamp = {
            let Ok(mut at) = position.lock() else { break };
            if let Some(MessageBox::Common { pts }) = state.message_box {
                at.common = CommonState { pts, date: state.date };
            }
            at.common.to_state()
        };
        match convert::update(&update) {
            Converted::Update(update) => fanout.publish(StampedUpdate { state: stamp, update }),
            Converted::ChannelGap(channel) => {
                for message in channel_history(&client, &memory, channel).await {
                    fanout.publish(StampedUpdate {
                        state: stamp,
                        update: GatewayUpdate::NewMessage(message),
                    });
                }
            }
            Converted::Ignored => {}
        }
    }
    drop(fanout);
}

/// The recent messages of a channel whose own sequence has a gap, oldest first; none when it cannot be read.
async fn channel_history(
    client: &Client,
    memory: &MemorySession,
    channel: tgos_domain::accounts::gateway::PeerKey,
) -> Vec<tgos_domain::accounts::gateway::RemoteMessage> {
    let Some(id) = connection::peer_id(channel) else {
        return Vec::new();
    };
    let Some(peer) = memory.peer_ref(id).await.ok().flatten() else {
        return Vec::new();
    };
    let request = tl::functions::messages::GetHistory {
        peer: (&peer).into(),
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 50,
        max_id: 0,
        min_id: 0,
        hash: 0,
    };
    match client.invoke(&request).await {
        Ok(answer) => {
            let (messages, users, chats) = super::answers::messages(answer);
            connection::cache(memory, &users, &chats).await;
            messages.into_iter().rev().collect()
        }
        Err(_) => Vec::new(),
    }
}
