//! Mail written as `.eml` files under a directory: nothing leaves the machine.
//!
//! Rule: the directory is created mode 0700 and each message is a new file `<uuid>.eml` of mode 0600
//! ([`crate::private_fs`]): mail carries invitation tokens and sign-in links, readable by the server's user only.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use lettre::message::Mailbox;
use tgos_domain::mail::{MailError, Mailer, OutgoingMail};

use crate::private_fs;

pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl std::fmt::Debug for FileMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMailer")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl FileMailer {
    /// Writes into `dir`, creating it.
    pub fn new(dir: &Path, from: Mailbox) -> Result<Self, MailError> {
        private_fs::create_private_dir(dir).map_err(|e| MailError(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Self {
            dir: dir.to_owned(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = super::message(&self.from, mail)?.formatted();
        let path = self.dir.join(format!("{}.eml", uuid::Uuid::now_v7()));
        tokio::task::spawn_blocking(move || {
            private_fs::write_private_file(&path, &message)
                .map_err(|e| MailError(format!("cannot write {}: {e}", path.display())))
        })
        .await
        .map_err(|e| MailError(format!("mail writer stopped: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tgos_domain::identity::Email;

    #[tokio::test]
    async fn writes_one_rfc5322_file_per_message() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mailer = FileMailer::new(dir.path(), super::super::sender("Telegram OS <no-reply@example.com>")?)?;
        mailer
            .send(&OutgoingMail {
                to: Email::parse("to", "ada@example.com").map_err(|e| e.message)?,
                subject: "Einladung für Ädä".into(),
                body: "token tgi_abc\n".into(),
                html: None,
                message_id: None,
            })
            .await?;
        let files: Vec<_> = std::fs::read_dir(dir.path())?.collect::<Result<_, _>>()?;
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path())?;
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(
            text.contains("From: \"Telegram OS\" <no-reply@example.com>")
                || text.contains("From: Telegram OS <no-reply@example.com>"),
            "{text}"
        );
        assert!(
            text.contains("Subject: Einladung =?utf-8?"),
            "non-ASCII words are encoded: {text}"
        );
        assert!(text.contains("tgi_abc"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(files[0].metadata()?.permissions().mode() & 0o777, 0o600);
            assert!(files[0].path().extension().is_some_and(|e| e == "eml"));
        }
        Ok(())
    }
}
