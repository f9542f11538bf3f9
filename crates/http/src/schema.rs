//! The API's wire types, as the OpenAPI document describes them.
//!
//! The health, error, ledger and import documents are built from these types. The item,
//! custody and search documents are built by the registry engine (`query::item_json`,
//! `query::custody_json`, `search::result_json`, the same JSON the CLI prints with `--json`);
//! their types here describe those documents for the OpenAPI schema, and the integration
//! tests read real answers back through them so the two cannot drift apart unnoticed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Machine-readable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 404: no such item, leaf or route.
    NotFound,
    /// 400: a malformed or impossible request (query string, path, sizes).
    BadRequest,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 413: the request body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the request body is not of a media type the route accepts.
    UnsupportedMediaType,
    /// 422: well-formed request, rejected data (the import report says which lines).
    Unprocessable,
    /// 401: no credential, or one that is wrong, expired or revoked.
    Unauthenticated,
    /// 403: authenticated, but the policy set does not allow this.
    Forbidden,
    /// 429: too many failed sign-ins; the account is locked for a while.
    TooManyRequests,
    /// 409: the name is taken (an agency, user or token that already exists).
    Conflict,
    /// 500: a failure of the server or its store.
    Internal,
    /// 503: the store (the database) does not answer; try again later.
    Unavailable,
}

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// The `x-request-id` of the exchange, to quote when reporting a problem.
    pub request_id: String,
}

/// `GET /api/v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// Number of records in the ledger.
    pub ledger_size: u64,
}

/// A node's public federation identity, as `tracemark peer add` takes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicIdentity {
    /// ISO 3166-1 alpha-2 code of the node's state.
    pub state: String,
    /// The Ed25519 key its messages and receipts are signed with.
    pub sign: String,
    /// The age X25519 recipient messages to it are encrypted for.
    pub encrypt: String,
}

/// `GET /api/v1/federation/identity`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FederationIdentity {
    pub identity: PublicIdentity,
    /// 16 hex digits in four groups, to compare by another channel before adding the peer.
    pub fingerprint: String,
}

/// The signed delivery receipt the inbox answers with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryReceipt {
    /// Format version (1).
    pub v: u32,
    /// The message received (32 hex digits).
    pub message_id: String,
    /// The receiving state (the signer).
    pub from: String,
    /// RFC 3339 UTC: when it was first received.
    pub received_at: String,
    /// `sha256:<64 hex>` of the exact envelope received.
    pub digest: String,
    /// Ed25519 signature (base64) under the receiver's federation key.
    pub signature: String,
}

/// One ledger leaf (`tracemark ledger leaf --json`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Leaf {
    #[serde(rename = "leafIdx")]
    pub leaf_idx: u64,
    /// Base64 of SHA-256(0x00 ‖ data).
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// Base64 of the record's canonical bytes (docs/LEDGER.md).
    pub data: String,
}

/// An RFC 9162 inclusion proof (`tracemark ledger proof --json`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InclusionProof {
    #[serde(rename = "leafIdx")]
    pub leaf_idx: u64,
    #[serde(rename = "treeSize")]
    pub tree_size: u64,
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// Base64 hashes, bottom up.
    pub proof: Vec<String>,
    /// Base64 root of the tree of `treeSize` leaves.
    pub root: String,
}

/// An RFC 9162 consistency proof (`tracemark ledger consistency --json`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProof {
    pub size1: u64,
    pub size2: u64,
    pub root1: String,
    pub root2: String,
    pub proof: Vec<String>,
}

/// One defect or warning of an import, by line of the request body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LineError {
    /// Always `body` (the request body is the one file imported).
    pub file: String,
    /// 1-based line number in the body.
    pub line: usize,
    /// The field at fault (empty when the line as a whole is).
    pub field: String,
    pub message: String,
}

/// The import report (`tracemark import --json`). A 422 answer carries it with an `error`
/// member beside it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Every rejected line.
    pub errors: Vec<LineError>,
    /// The first warnings (unknown fields, kept as given).
    pub warnings: Vec<LineError>,
    pub warnings_total: u64,
    /// Whether anything was written to the ledger.
    pub committed: bool,
    /// Ledger size after the import.
    pub ledger_size: u64,
    /// Present on a 422 answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// One refused or doubtful row of a register import, where it is and what to do about it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterProblem {
    /// The file's name as uploaded.
    pub file: String,
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub row: u64,
    /// Column letter (`C`), when the problem is in one cell.
    pub column: Option<String>,
    /// The column's header.
    pub header: Option<String>,
    /// `file`, `conversion`, `validation`, `dependent`, `likely_duplicate` or `suspicious`.
    pub category: String,
    /// The interchange field, for problems found by the registry's rules.
    pub field: String,
    pub message: String,
    pub suggestion: Option<String>,
    /// The key of the item the row declares, when it has one.
    pub key: Option<String>,
}

/// The report of a register import (`tracemark import --format csv --json`). A 422 answer
/// carries it with an `error` member beside it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterImportReport {
    /// Records written (or that would be, with `check=true`).
    pub accepted: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Records already in the store.
    pub duplicates: u64,
    /// Rows read.
    pub rows: u64,
    pub errors: Vec<RegisterProblem>,
    pub warnings: Vec<RegisterProblem>,
    pub warnings_total: u64,
    /// The file as read: format, encoding, delimiter, sheet, header row, rows, and each
    /// column with the field it was read as; `mapping_toml` is the mapping used, to review,
    /// edit and send back as `mapping`.
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<serde_json::Value>,
    pub committed: bool,
    pub ledger_size: u64,
    /// Present on a 422 answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// An actor: `{name, country, kind, licence?}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub name: Option<String>,
    pub country: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Marking {
    pub kind: String,
    /// Exactly as seen, in any script.
    pub text: String,
    pub component: Option<String>,
    pub legibility: String,
    pub note: Option<String>,
}

/// The item document (`tracemark item show --json`): the declared item (unknown fields of
/// the declaration are kept), its markings, current status and holder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Item {
    pub key: String,
    pub kind: String,
    #[serde(rename = "type", default)]
    pub item_type: Option<String>,
    #[serde(default)]
    pub make: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub calibre: Option<String>,
    #[serde(default)]
    pub country_of_manufacture: Option<String>,
    #[serde(default)]
    pub year_of_manufacture: Option<i64>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub quantity: Option<u64>,
    pub markings: Vec<Marking>,
    /// `tm:<ledger index>`.
    pub internal_id: String,
    /// Ledger index of the item's declaration.
    pub ledger_index: u64,
    /// Keys of the parts fitted now (declared with this item as parent, adjusted by
    /// `component_replaced` events).
    pub components: Vec<String>,
    pub status: String,
    pub holder: Option<Actor>,
    pub last_legal_holder: Option<Actor>,
    /// Number of events in force (not voided by a correction).
    pub events: u64,
    #[serde(default)]
    pub recorded_at: Option<String>,
    #[serde(default)]
    pub recorded_by: Option<String>,
}

/// One event of a chain of custody.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustodyEvent {
    /// Ledger index of the event.
    pub seq: u64,
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    /// As recorded, precision kept (`YYYY`, `YYYY-MM`, `YYYY-MM-DD` or RFC 3339).
    pub date: String,
    pub from: Option<Actor>,
    pub to: Option<Actor>,
    #[schema(value_type = Option<Object>)]
    pub place: Option<serde_json::Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub documents: Option<serde_json::Value>,
    pub note: Option<String>,
    /// `corrected` events: the `id` of the event corrected, `#N` for ledger index N, or `item`.
    pub corrects: Option<String>,
    /// Voided by a later correction.
    pub void: bool,
    /// Ledger indexes of the corrections that amend this event.
    pub corrected_by: Vec<u64>,
    pub status_after: String,
    pub holder_after: Option<Actor>,
    pub recorded_at: String,
    pub recorded_by: String,
}

/// Where control of the item was lost.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Diversion {
    pub seq: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub date: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub place: Option<serde_json::Value>,
    /// Whether the loss was reported (lost/stolen) rather than found by a seizure.
    pub reported: bool,
    pub last_legal_seq: Option<u64>,
    pub last_legal_holder: Option<Actor>,
    pub summary: String,
}

/// The chain of custody (`tracemark custody --json`), in chronological order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Custody {
    pub item: String,
    pub status: String,
    pub holder: Option<Actor>,
    pub last_legal_holder: Option<Actor>,
    pub diversion: Option<Diversion>,
    pub events: Vec<CustodyEvent>,
}

/// An item of the same make and model whose serial is numerically adjacent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShipmentNeighbour {
    pub item: String,
    pub serial: String,
    pub offset: i64,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub item: String,
    /// The marking text as recorded.
    pub marking: String,
    pub kind: String,
    /// `exact`, `normalized`, `wildcard` or `fuzzy`.
    #[serde(rename = "match")]
    pub match_class: String,
    pub distance: u8,
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    pub status: String,
    /// Same-shipment hints, on the first hits of a page that are serials.
    #[serde(default)]
    pub same_shipment: Option<Vec<ShipmentNeighbour>>,
    /// On a hit on an item reported lost or stolen: the report and whom to contact.
    #[serde(default)]
    pub alert: Option<HitAlert>,
}

/// A hit on an item reported lost or stolen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HitAlert {
    /// The report: `type` (`reported_lost`, `reported_stolen`), `date`, `ledger_index`.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The agency that reported it, when known.
    pub contact_agency: Option<String>,
    /// Whom to contact, in words.
    pub contact: String,
    /// Whether that agency was notified of this search (identifications by another agency).
    pub notified: bool,
}

/// The search document (`tracemark search --json`), with the page's `offset` and `limit`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResult {
    pub query: String,
    /// Number of matching markings, whatever the page.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub hits: Vec<SearchHit>,
    #[serde(default)]
    pub capped: Option<String>,
}

/// `POST /api/v1/agencies`, and one agency of `GET /api/v1/agencies`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Short name: a-z, 0-9, '.', '-', '_' (e.g. `police-nairobi`).
    pub name: String,
    /// `police`, `defence`, `customs`, `licensing`, `dealer` or `other`.
    pub kind: String,
    /// The holder name its records use (an event's `to.name`).
    #[serde(default)]
    pub holder_name: Option<String>,
    /// The holder kind of its holdings (an event's `to.kind`, e.g. `armed_forces`).
    #[serde(default)]
    pub holder_kind: Option<String>,
    /// Items it holds are visible only to its own users (and tracing officers).
    #[serde(default)]
    pub need_to_know: bool,
    /// Set by the server.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `POST /api/v1/users`: a person's account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub agency: String,
    /// `registry_clerk`, `investigator`, `tracing_officer`, `licensing_officer`,
    /// `stockpile_manager`, `analyst`, `auditor` or `administrator`.
    pub role: String,
}

/// An account (never its secrets).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub name: String,
    pub agency: String,
    pub role: String,
    /// `none`, `pending` (enrolment started) or `totp`.
    pub second_factor: String,
    /// Set when the account is locked after failed sign-ins (unix seconds).
    pub locked_until: Option<i64>,
    pub created_at: String,
}

/// `POST /api/v1/users`: the account and its one-time password (shown once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedUser {
    pub user: User,
    pub password: String,
}

/// `POST /api/v1/session/totp` (one's own) or `POST /api/v1/users/{name}/totp` (an
/// administrator's reset): a new TOTP secret as the `otpauth://` URL an authenticator reads,
/// shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolment {
    pub otpauth_url: String,
}

/// `GET /api/v1/retention`: the node's retention periods in force, in years (`null` =
/// indefinite, the default), and how many times they were set (every setting is kept).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Retention {
    /// Manufacturing records: at least 30 years under the ITI.
    pub manufacturing_years: Option<u32>,
    /// Every other record: at least 20 years under the ITI.
    pub other_years: Option<u32>,
    pub changes: u64,
}

/// `PUT /api/v1/retention`: the periods to set, in years; `null` or absent = indefinite.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPeriods {
    #[serde(default)]
    pub manufacturing_years: Option<u32>,
    #[serde(default)]
    pub other_years: Option<u32>,
}

/// A peer of the federation directory (`GET /api/v1/federation/peers`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Peer {
    /// Its state (ISO 3166-1 alpha-2).
    pub state: String,
    /// Its base URL.
    pub url: String,
    /// The fingerprint of its public keys, grouped for reading aloud.
    pub fingerprint: String,
    pub added_at: String,
    pub replaced_at: Option<String>,
}

/// `POST /api/v1/federation/peers`: a peer to add.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeer {
    /// Its public identity: what its `GET /api/v1/federation/identity` answers (the whole
    /// answer, or its `identity` member).
    #[schema(value_type = Object)]
    pub identity: serde_json::Value,
    /// Its base URL, e.g. `https://tracemark.example.org/`.
    pub url: String,
    /// Replace a peer of that state known with other keys or another URL.
    #[serde(default)]
    pub replace: bool,
}

/// `POST /api/v1/tokens`: a service account's token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub service: String,
    pub agency: String,
    /// A non-privileged role (service accounts have no second factor).
    pub role: String,
}

/// A token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// The 16 hex digits after `tmk_`.
    pub id: String,
    pub service: String,
    pub agency: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// `POST /api/v1/tokens`: the token row and the token itself (shown once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub token: Token,
    /// Send as `Authorization: Bearer …`.
    pub secret: String,
}

/// `POST /api/v1/session`: a person signs in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
    /// The current TOTP code (6 digits): required once the account is enrolled, and always
    /// for administrators, auditors and tracing officers.
    #[serde(default)]
    pub totp: Option<String>,
}

/// The signed-in principal (`POST` and `GET /api/v1/session`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// `user:<name>` or `service:<name>`.
    pub principal: String,
    pub agency: String,
    pub role: String,
    /// Whether a second factor was proved at sign-in.
    pub mfa: bool,
    /// The session ends after this long without a request (absent for bearer tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_seconds: Option<i64>,
}

/// `GET /api/v1/notifications`: a page of the caller's agency's notifications.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationPage {
    /// The agency whose notifications these are (the caller's).
    pub agency: String,
    pub notifications: Vec<Notification>,
    /// The id to pass as `after` for the next page (absent when this page is empty).
    pub next: Option<u64>,
}

/// A hit on an item the agency reported lost or stolen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: u64,
    pub created_at: String,
    /// The item key.
    pub item: String,
    /// `search_hit` (someone of another agency identified it in a search) or `seizure` (it
    /// was recorded as seized or recovered).
    pub kind: String,
    /// Who found it (`by`, `by_agency`), the query, the loss report and the request id.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// `GET /api/v1/audit`: a page of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Entries in the log.
    pub size: u64,
    /// The latest signed audit checkpoint (origin `<ledger origin>/audit`).
    pub checkpoint: Option<String>,
    /// When the page is full: the `from` that continues the same query.
    pub next: Option<u64>,
    pub entries: Vec<AuditEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub index: u64,
    /// Base64 of SHA-256(0x00 ‖ canonical entry): the leaf hash in the audit tree.
    pub leaf_hash: String,
    /// `{v, time, principal, agency, role, action, resource, purpose, decision, reasons, request_id}`.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
}

/// What a trace step recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TraceRecorded {
    /// The trace's key, `<requesting state>:<trace id>`.
    pub key: String,
    /// The index of the step's (last) record in the trace log.
    pub index: u64,
    /// The trace's status after the step (`draft`, `sent`, … `closed`).
    pub status: String,
    /// The peers a message was queued for (delivered by the federation outbox).
    pub queued_for: Vec<String>,
    /// Requested states that are not peers: the step must reach them another way (the
    /// printable request, e-mail, the diplomatic bag).
    pub not_federated: Vec<String>,
}

/// One trace as the list shows it (the `traces` projection).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TraceSummary {
    pub key: String,
    /// `requesting` (this state asked) or `requested` (this state was asked).
    pub role: String,
    pub requesting_state: String,
    pub case_reference: String,
    /// The key of the trace this one was chained from.
    pub parent: Option<String>,
    /// `draft`, `sent`, `delivered`, `acknowledged`, `follow_up`, `answered` or `closed`; on
    /// the requesting side the least advanced exchange's, on the requested side this state's.
    pub status: String,
    /// `urgent` or `routine` once sent.
    pub priority: Option<String>,
    /// The requested states (empty while a draft).
    pub requested_states: Vec<String>,
    /// RFC 3339: when it was drafted (or received), and its last step.
    pub opened_at: String,
    pub updated_at: String,
    /// Records in the trace log.
    pub records: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TracePage {
    /// Traces matching the filters.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub traces: Vec<TraceSummary>,
}

/// A message in the federation outbox (never its content).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxMessage {
    /// `pending`, `delivered` or `refused` (for good; an officer must look at it).
    pub status: String,
    pub peer: String,
    pub message_id: String,
    /// The key of the trace it is a step of.
    pub trace: String,
    /// `trace_request`, `ack`, `answer`, `follow_up`, `close`.
    pub kind: String,
    pub created_at: String,
    /// Failed attempts so far.
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    /// The peer's rejection code and message.
    pub refused: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxPage {
    /// Messages matching the filters.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub messages: Vec<OutboxMessage>,
}
