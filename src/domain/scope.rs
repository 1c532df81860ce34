//! Who may change what: the one place the hub's write and read rules are stated. Every
//! mutation passes through these functions (the write engine calls them inside its
//! transaction), so no resolver carries its own copy of a rule.
//!
//! - `admin` does everything; `analyst` reads everything and writes nothing; anonymous
//!   callers read the public part.
//! - An agency writes the records it owns: those it pushed (their `source` is
//!   `agency:<code>`) and those that name it as their managing or reporting agency.
//!   Records a connector brought in are read-only to agencies, whoever they name.
//! - An annual report belongs to its reporting agency alone.
//! - An agency links records only to tasks it leads or coordinates (named directly in
//!   the plan; a group such as "Các Sở, ngành Tỉnh" grants nothing), and reports
//!   progress only on tasks it leads.
//! - Archived records, record history and the audit log are not public: they are read
//!   by admins, analysts and the owning agency.

use thiserror::Error;

use super::auth::{Caller, Role};

/// Why a caller may not do something.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Denied {
    #[error("anonymous callers may only read; send Authorization: Bearer <token> to make changes")]
    Anonymous,
    #[error("the analyst role reads everything and writes nothing")]
    ReadOnly,
    #[error(
        "{record} comes from the registry {registry:?} and is read-only to agencies; correct it at that registry"
    )]
    ConnectorOwned { record: String, registry: String },
    #[error(
        "{record} belongs to another agency; agency {agency:?} may change only its own records"
    )]
    NotOwner { record: String, agency: String },
    #[error("agency {agency:?} submits only its own annual reports")]
    OtherAgencyReport { agency: String },
    #[error(
        "agency {agency:?} neither leads nor coordinates task {task}, so it may not link records to it"
    )]
    NotTaskParty { task: String, agency: String },
    #[error("only the lead agency of task {task} may report its progress")]
    NotLead { task: String },
    #[error("only admins may {0}")]
    AdminOnly(&'static str),
}

/// A caller allowed to write at all, with what its writes are stamped with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    pub token_id: Option<i32>,
    pub role: Role,
    pub agency_id: Option<i32>,
    pub agency_code: Option<String>,
    /// Set for a connector's sync: it writes only its own records (natural key
    /// `connector:<name>` + external id), with an admin's reach.
    pub connector: Option<String>,
}

impl Writer {
    /// The writer of a connector's sync runs.
    pub fn connector(name: &str) -> Self {
        Writer {
            token_id: None,
            role: Role::Admin,
            agency_id: None,
            agency_code: None,
            connector: Some(name.to_owned()),
        }
    }

    /// The `source` of the records this writer creates: `agency:<code>`,
    /// `connector:<name>` or `admin`.
    pub fn source(&self) -> String {
        match (&self.connector, &self.agency_code) {
            (Some(name), _) => format!("connector:{name}"),
            (None, Some(code)) => format!("agency:{code}"),
            (None, None) => "admin".to_owned(),
        }
    }

    /// How the audit log names this writer.
    pub fn actor(&self) -> String {
        let token = self
            .token_id
            .map(|id| format!(" (token {id})"))
            .unwrap_or_default();
        format!("{}{token}", self.source())
    }

    fn agency_label(&self) -> String {
        self.agency_code.clone().unwrap_or_default()
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The caller as a writer, or why it may not write anything.
pub fn writer(caller: &Caller) -> Result<Writer, Denied> {
    match caller {
        Caller::Anonymous => Err(Denied::Anonymous),
        Caller::Token {
            role: Role::Analyst,
            ..
        } => Err(Denied::ReadOnly),
        Caller::Token {
            token_id,
            role,
            agency_id,
            agency_code,
        } => Ok(Writer {
            token_id: Some(*token_id),
            role: *role,
            agency_id: *agency_id,
            agency_code: agency_code.clone(),
            connector: None,
        }),
    }
}

/// Who owns a record, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// `seed`, `sample`, `admin`, `agency:<code>` or `connector:<name>`.
    pub source: &'a str,
    /// The managing or reporting agency the record names.
    pub agency_id: Option<i32>,
    /// The named agency alone owns the record (annual reports): pushing it grants
    /// nothing.
    pub agency_only: bool,
}

impl Owner<'_> {
    pub fn connector(&self) -> Option<&str> {
        self.source.strip_prefix("connector:")
    }
}

fn agency_owns(agency_id: Option<i32>, agency_source: &str, owner: &Owner<'_>) -> bool {
    let named = agency_id.is_some() && owner.agency_id == agency_id;
    if owner.agency_only {
        named
    } else {
        named || owner.source == agency_source
    }
}

/// May `writer` change (update, archive, or create with this content) `record`?
pub fn may_write(writer: &Writer, record: &str, owner: &Owner<'_>) -> Result<(), Denied> {
    if writer.is_admin() {
        return Ok(());
    }
    if let Some(registry) = owner.connector() {
        return Err(Denied::ConnectorOwned {
            record: record.to_owned(),
            registry: registry.to_owned(),
        });
    }
    if agency_owns(writer.agency_id, &writer.source(), owner) {
        return Ok(());
    }
    if owner.agency_only {
        return Err(Denied::OtherAgencyReport {
            agency: writer.agency_label(),
        });
    }
    Err(Denied::NotOwner {
        record: record.to_owned(),
        agency: writer.agency_label(),
    })
}

/// The agencies a plan task names, directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskParties {
    pub code: String,
    pub lead_agency_id: Option<i32>,
    pub coordinator_agency_ids: Vec<i32>,
}

/// May `writer` link records to (or unlink them from) this task?
pub fn may_link(writer: &Writer, task: &TaskParties) -> Result<(), Denied> {
    if writer.is_admin() {
        return Ok(());
    }
    let party = writer.agency_id.is_some_and(|id| {
        task.lead_agency_id == Some(id) || task.coordinator_agency_ids.contains(&id)
    });
    if party {
        Ok(())
    } else {
        Err(Denied::NotTaskParty {
            task: task.code.clone(),
            agency: writer.agency_label(),
        })
    }
}

/// May `writer` report progress on this task?
pub fn may_report_progress(writer: &Writer, task: &TaskParties) -> Result<(), Denied> {
    if writer.is_admin() || (writer.agency_id.is_some() && writer.agency_id == task.lead_agency_id)
    {
        Ok(())
    } else {
        Err(Denied::NotLead {
            task: task.code.clone(),
        })
    }
}

/// May the caller read the whole audit log?
pub fn may_read_audit_log(caller: &Caller) -> Result<(), Denied> {
    match caller {
        Caller::Token {
            role: Role::Admin, ..
        } => Ok(()),
        _ => Err(Denied::AdminOnly("read the audit log")),
    }
}

/// May the caller see what is not public about a record (its history; the record
/// itself once archived)?
pub fn may_read_private(caller: &Caller, owner: &Owner<'_>) -> bool {
    match caller {
        Caller::Anonymous => false,
        Caller::Token {
            role: Role::Admin | Role::Analyst,
            ..
        } => true,
        Caller::Token {
            agency_id,
            agency_code,
            ..
        } => {
            let source = format!("agency:{}", agency_code.as_deref().unwrap_or_default());
            agency_owns(*agency_id, &source, owner)
        }
    }
}

/// May the caller read a record at all? Archived records are private.
pub fn may_read(caller: &Caller, owner: &Owner<'_>, archived: bool) -> bool {
    !archived || may_read_private(caller, owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(id: i32, code: &str) -> Caller {
        Caller::Token {
            token_id: 10 + id,
            role: Role::Agency,
            agency_id: Some(id),
            agency_code: Some(code.into()),
        }
    }

    fn role(role: Role) -> Caller {
        Caller::Token {
            token_id: 1,
            role,
            agency_id: None,
            agency_code: None,
        }
    }

    fn owner(source: &str, agency_id: Option<i32>) -> Owner<'_> {
        Owner {
            source,
            agency_id,
            agency_only: false,
        }
    }

    #[test]
    fn only_admins_and_agencies_write() {
        assert_eq!(writer(&Caller::Anonymous), Err(Denied::Anonymous));
        assert_eq!(writer(&role(Role::Analyst)), Err(Denied::ReadOnly));
        let admin = writer(&role(Role::Admin)).unwrap();
        assert_eq!(admin.source(), "admin");
        let khcn = writer(&agency(3, "so-khcn")).unwrap();
        assert_eq!(khcn.source(), "agency:so-khcn");
        assert_eq!(khcn.actor(), "agency:so-khcn (token 13)");
    }

    #[test]
    fn agencies_write_what_they_pushed_or_manage() {
        let khcn = writer(&agency(3, "so-khcn")).unwrap();
        assert!(may_write(&khcn, "a product", &owner("agency:so-khcn", None)).is_ok());
        assert!(may_write(&khcn, "IpRight:1", &owner("seed", Some(3))).is_ok());
        let denied = may_write(&khcn, "another product", &owner("agency:so-nn-ptnt", None));
        assert!(matches!(denied, Err(Denied::NotOwner { .. })));
        assert!(may_write(&khcn, "IpRight:2", &owner("seed", Some(4))).is_err());
    }

    #[test]
    fn connector_records_are_read_only_to_agencies_and_the_error_names_the_registry() {
        let khcn = writer(&agency(3, "so-khcn")).unwrap();
        let denied = may_write(
            &khcn,
            "a registry's product",
            &owner("connector:ocop-ckan", Some(3)),
        )
        .unwrap_err();
        assert!(denied.to_string().contains("\"ocop-ckan\""), "{denied}");
        let admin = writer(&role(Role::Admin)).unwrap();
        assert!(
            may_write(
                &admin,
                "a registry's product",
                &owner("connector:ocop-ckan", None)
            )
            .is_ok()
        );
    }

    #[test]
    fn annual_reports_belong_to_their_reporting_agency_alone() {
        let khcn = writer(&agency(3, "so-khcn")).unwrap();
        let report = |agency_id| Owner {
            source: "agency:so-khcn",
            agency_id: Some(agency_id),
            agency_only: true,
        };
        assert!(may_write(&khcn, "a report", &report(3)).is_ok());
        assert!(matches!(
            may_write(&khcn, "another report", &report(4)),
            Err(Denied::OtherAgencyReport { .. })
        ));
    }

    #[test]
    fn links_need_a_lead_or_coordinating_agency() {
        let task = TaskParties {
            code: "II.3".into(),
            lead_agency_id: Some(3),
            coordinator_agency_ids: vec![4],
        };
        let lead = writer(&agency(3, "so-khcn")).unwrap();
        let coordinator = writer(&agency(4, "so-nn-ptnt")).unwrap();
        let outsider = writer(&agency(5, "so-cong-thuong")).unwrap();
        assert!(may_link(&lead, &task).is_ok());
        assert!(may_link(&coordinator, &task).is_ok());
        assert!(
            may_link(&outsider, &task)
                .unwrap_err()
                .to_string()
                .contains("II.3")
        );
        assert!(may_report_progress(&lead, &task).is_ok());
        assert!(may_report_progress(&coordinator, &task).is_err());
    }

    #[test]
    fn private_parts_are_for_admins_analysts_and_owners() {
        let pushed = owner("agency:so-khcn", None);
        assert!(may_read(&Caller::Anonymous, &pushed, false));
        assert!(!may_read(&Caller::Anonymous, &pushed, true));
        assert!(may_read(&agency(3, "so-khcn"), &pushed, true));
        assert!(!may_read(&agency(4, "so-nn-ptnt"), &pushed, true));
        assert!(may_read(&role(Role::Analyst), &pushed, true));
        assert!(may_read_audit_log(&role(Role::Admin)).is_ok());
        assert!(may_read_audit_log(&role(Role::Analyst)).is_err());
    }
}
