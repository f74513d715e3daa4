//! What an operator sends in a dialog: text, or a document with the text as its caption.
//!
//! Rules:
//! - Text alone is Telegram's text: 1 to 4096 UTF-16 code units, not only whitespace (`BAD_USER_INPUT` on
//!   `text`).
//! - With a document the text is its caption: it may be empty and is at most 1024 UTF-16 code units
//!   (`BAD_USER_INPUT` on `text`).
//! - A document is checked before anything is stored or sent ([`OutgoingDocument::new`]): not empty, at most
//!   [`MAX_UPLOAD_BYTES`], a plain file name, a `type/subtype` MIME type; every refusal is `BAD_USER_INPUT` on
//!   `document`.

use crate::accounts::gateway::{
    DocumentError, MAX_CAPTION_LENGTH, MAX_UPLOAD_BYTES, MediaInfo, OutgoingDocument, check_caption,
    check_outgoing_text,
};
use crate::error::{DomainError, DomainResult};

/// The argument a document comes in, as refusals name it.
pub const DOCUMENT_FIELD: &str = "document";

/// A message ready to send: its text (a caption when it carries a document) and the document, both checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    text: String,
    document: Option<OutgoingDocument>,
}

/// A document as a member uploaded it, not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentUpload {
    pub file_name: String,
    /// As the upload declared it; `application/octet-stream` when it declared none.
    pub mime_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for DocumentUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentUpload")
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Outgoing {
    /// Checks what a member asked to send: `text` alone, or `document` captioned by `text`.
    pub fn parse(text: &str, document: Option<DocumentUpload>) -> DomainResult<Self> {
        let document = document
            .map(|upload| Self::document(&upload.file_name, upload.mime_type.as_deref(), upload.bytes))
            .transpose()?;
        Self::new(text, document)
    }

    /// Text alone, or a document captioned by `text`.
    pub fn new(text: &str, document: Option<OutgoingDocument>) -> DomainResult<Self> {
        match &document {
            None => check_outgoing_text(text).map_err(|error| DomainError::invalid("text", error.to_string()))?,
            Some(_) => check_caption(text).map_err(|_| {
                DomainError::invalid(
                    "text",
                    format!("a document's caption is at most {MAX_CAPTION_LENGTH} characters"),
                )
            })?,
        }
        Ok(Self {
            text: text.to_owned(),
            document,
        })
    }

    /// A document a member uploaded, checked; each refusal names [`DOCUMENT_FIELD`].
    pub fn document(file_name: &str, mime_type: Option<&str>, bytes: Vec<u8>) -> DomainResult<OutgoingDocument> {
        let mime_type = mime_type
            .filter(|m| !m.trim().is_empty())
            .unwrap_or("application/octet-stream");
        OutgoingDocument::new(file_name, mime_type, bytes).map_err(|error| {
            let message = match error {
                DocumentError::TooLarge { .. } => format!("the file is larger than {MAX_UPLOAD_BYTES} bytes"),
                other => other.to_string(),
            };
            DomainError::invalid(DOCUMENT_FIELD, message)
        })
    }

    /// The refusal of a document larger than [`MAX_UPLOAD_BYTES`], for an edge that stops reading it early.
    pub fn document_too_large() -> DomainError {
        DomainError::invalid(
            DOCUMENT_FIELD,
            format!("the file is larger than {MAX_UPLOAD_BYTES} bytes"),
        )
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn attached(&self) -> Option<&OutgoingDocument> {
        self.document.as_ref()
    }

    /// What the stored message shows of its media.
    pub fn media(&self) -> Option<MediaInfo> {
        self.document.as_ref().map(OutgoingDocument::info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::gateway::MediaKind;

    fn field_of(error: DomainError) -> String {
        match error {
            DomainError::Invalid(fields) => fields[0].field.clone(),
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn text_alone_must_be_telegrams_text_and_a_caption_may_be_empty() {
        assert_eq!(field_of(Outgoing::new(" ", None).unwrap_err()), "text");
        let document = Outgoing::document("a.pdf", Some("application/pdf"), vec![1]).unwrap();
        let captioned = Outgoing::new("", Some(document.clone())).unwrap();
        assert_eq!(captioned.text(), "");
        assert_eq!(captioned.media().and_then(|m| m.kind), Some(MediaKind::Document));
        assert_eq!(
            field_of(Outgoing::new(&"a".repeat(1025), Some(document)).unwrap_err()),
            "text"
        );
        assert_eq!(Outgoing::new("hi", None).unwrap().media(), None);
    }

    #[test]
    fn every_refused_document_names_the_document_argument() {
        for refused in [
            Outgoing::document("a.pdf", Some("application/pdf"), Vec::new()),
            Outgoing::document("a.pdf", None, vec![0; MAX_UPLOAD_BYTES + 1]),
            Outgoing::document("../a.pdf", None, vec![1]),
            Outgoing::document("a.pdf", Some("pdf"), vec![1]),
        ] {
            assert_eq!(field_of(refused.unwrap_err()), DOCUMENT_FIELD);
        }
        assert_eq!(field_of(Outgoing::document_too_large()), DOCUMENT_FIELD);
    }

    #[test]
    fn a_document_without_a_mime_type_is_an_octet_stream() {
        let document = Outgoing::document("blob.bin", None, vec![1]).unwrap();
        assert_eq!(document.mime_type(), "application/octet-stream");
        let document = Outgoing::document("blob.bin", Some(" "), vec![1]).unwrap();
        assert_eq!(document.mime_type(), "application/octet-stream");
    }
}
