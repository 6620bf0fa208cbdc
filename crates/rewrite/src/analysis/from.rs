//! What each table name in a FROM or JOIN, or after `x IN`, resolves to — the way SQLite
//! resolves it: an unqualified name that matches a CTE of an enclosing WITH is that CTE;
//! anything else is a table or view of the schema, a table-valued function on the
//! allowlist, or refused. Tenant tables and views are recorded in the model with the bytes
//! their replacement covers.

use sqlparser::ast::{Ident, ObjectName, TableAlias, TableFactor, TableIndexDirective};
use sqlparser::keywords::Keyword;

use crate::analysis::model::{InPlaceRead, InTable, TenantRead, ViewUse};
use crate::analysis::walk::Walk;
use crate::objects::View;
use crate::refusal::{Refusal, SourceForm, VirtualForm};
use crate::schema::Table;
use crate::sql::{alias_token, ident_parts, last_ident, loc_of, name_pos};
use crate::statement::{Access, TableUse};

/// Table-valued functions that read no table rows and may appear in FROM.
pub const TABLE_FUNCTIONS: &[&str] = &[
    "json_each",
    "json_tree",
    "jsonb_each",
    "jsonb_tree",
    "pragma_table_info",
    "pragma_table_xinfo",
    "pragma_table_list",
    "pragma_index_list",
    "pragma_index_info",
    "pragma_index_xinfo",
    "pragma_foreign_key_list",
];

/// The schema tables a scoped statement may read: they describe tables, not tenants' rows.
const SCHEMA_TABLES: &[&str] = &[
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
];

/// What a table name in a FROM (or after IN) resolves to.
enum Resolved<'s> {
    /// Nothing to scope: a CTE, a schema table, a global table.
    Plain,
    /// A tenant table.
    Scoped(&'s Table),
    /// A view, whose query takes its place.
    View(&'s View),
}

impl<'s> Walk<'s, '_> {
    /// A table in a FROM or JOIN: resolved, and a tenant table or view recorded with the
    /// bytes it replaces.
    pub(super) fn table(&mut self, factor: &TableFactor) -> Result<(), Refusal> {
        let TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            with_ordinality,
            partitions,
            json_path,
            sample,
            index_directives,
            inheritance,
        } = factor
        else {
            return Ok(());
        };
        let Some(pos) = name_pos(name) else {
            return Err(Refusal::TableSource {
                form: SourceForm::Name {
                    name: name.to_string(),
                },
            });
        };
        if self.targets.contains(&pos) {
            return Ok(());
        }
        if !with_hints.is_empty()
            || version.is_some()
            || *with_ordinality
            || !partitions.is_empty()
            || json_path.is_some()
            || sample.is_some()
            || inheritance.is_some()
            || alias.as_ref().is_some_and(|a| !a.columns.is_empty())
        {
            return Err(Refusal::TableSource {
                form: SourceForm::Modifiers {
                    name: name.to_string(),
                },
            });
        }
        let parts = ident_parts(name)?;
        if args.is_some() {
            return self.table_function(&parts, pos);
        }
        let table = match self.resolve(name, &parts, pos)? {
            Resolved::Plain => return Ok(()),
            Resolved::Scoped(table) if table.module.is_some() => {
                return self.virtual_read(table, name, alias.as_ref(), &parts, pos);
            }
            Resolved::Scoped(table) => table,
            Resolved::View(view) => {
                if !index_directives.is_empty() {
                    return Err(Refusal::TableSource {
                        form: SourceForm::IndexedView {
                            name: name.to_string(),
                        },
                    });
                }
                return self.view_in_from(view, name, alias.as_ref().map(|a| &a.name), pos);
            }
        };

        // The bytes to replace: the name, the alias and any INDEXED BY / NOT INDEXED.
        let src = self.cx.src;
        let (first, mut last) = self.name_tokens(name, pos)?;
        let alias_tok = match alias {
            Some(a) => Some(alias_token(src, last, &a.name)?),
            None => None,
        };
        if let Some(a) = alias_tok {
            last = last.max(a);
        }
        let mut index_clause = String::new();
        for directive in index_directives {
            match directive {
                TableIndexDirective::IndexedBy(ident) => {
                    let i = self.tok(loc_of(ident))?;
                    last = last.max(i);
                    index_clause = format!(" INDEXED BY {}", src.tok_text(i));
                }
                TableIndexDirective::NotIndexed => {
                    // NOT INDEXED follows the name or alias.
                    let not = src.next_sig(last, src.toks.len());
                    let indexed = not.and_then(|n| src.next_sig(n, src.toks.len()));
                    match (not, indexed) {
                        (Some(n), Some(i))
                            if src.is_kw(n, Keyword::NOT) && src.is_kw(i, Keyword::INDEXED) =>
                        {
                            last = i;
                            index_clause = " NOT INDEXED".to_owned();
                        }
                        _ => {
                            return Err(Refusal::Internal {
                                detail: format!("NOT INDEXED of {name} not found"),
                            });
                        }
                    }
                }
                TableIndexDirective::MySql(_) => {
                    return Err(Refusal::TableSource {
                        form: SourceForm::IndexHints,
                    });
                }
            }
        }
        let alias_text = src.tok_text(alias_tok.unwrap_or_else(|| {
            // The table name's last part names the derived table.
            last_ident(name)
                .and_then(|i| src.index_at(i.span.start))
                .unwrap_or(first)
        }));

        let qualifier = alias
            .as_ref()
            .map_or_else(|| table.name.clone(), |a| a.name.value.clone())
            .to_ascii_lowercase();
        self.model.reads.push(TenantRead {
            select: self.scopes.current_select(),
            span: src.toks[first].start..src.toks[last].end,
            table,
            qualifier,
            index_clause,
            alias_text: alias_text.to_owned(),
            rowid: None,
            nullable: self.nullable.contains(&pos),
            main_prefix: (self.cx.in_view && parts.len() == 1).then_some(src.toks[first].start),
        });
        Ok(())
    }

    /// A tenant virtual table in a FROM: read in place, its tenant test recorded for the
    /// WHERE of the SELECT whose FROM holds it (see `analysis/vtab.rs`).
    fn virtual_read(
        &mut self,
        table: &'s Table,
        name: &ObjectName,
        alias: Option<&TableAlias>,
        parts: &[String],
        pos: (u64, u64),
    ) -> Result<(), Refusal> {
        let refuse = |form| Refusal::VirtualTable {
            table: table.name.clone(),
            form,
        };
        let Some(select) = self.scopes.current_select() else {
            return Err(refuse(VirtualForm::UpdateFrom));
        };
        if self.nullable.contains(&pos) {
            return Err(refuse(VirtualForm::OuterJoin));
        }
        let Some(place) = self.from_facts.get(&select).and_then(|f| f.place) else {
            return Err(Refusal::Internal {
                detail: format!("no WHERE place for the SELECT reading {name}"),
            });
        };
        let name_end = self.name_tokens(name, pos)?.1;
        let qualifier_tok = match alias {
            Some(a) => alias_token(self.cx.src, name_end, &a.name)?,
            None => name_end,
        };
        let qualifier = self.cx.src.tok_text(qualifier_tok).to_owned();
        let lower = alias
            .map_or_else(|| table.name.clone(), |a| a.name.value.clone())
            .to_ascii_lowercase();
        self.qualify_in_view(parts, pos)?;
        self.model.in_place.push(InPlaceRead {
            select,
            table,
            qualifier,
            name: lower,
            place,
        });
        Ok(())
    }

    /// `x IN t`: a tenant table or a view becomes a subquery; a table-valued function must
    /// be on the allowlist.
    pub(super) fn in_table(&mut self, name: &ObjectName, function: bool) -> Result<(), Refusal> {
        let Some(pos) = name_pos(name) else {
            return Err(Refusal::TableSource {
                form: SourceForm::InName {
                    name: name.to_string(),
                },
            });
        };
        let parts = ident_parts(name)?;
        if function {
            return self.table_function(&parts, pos);
        }
        let resolved = self.resolve(name, &parts, pos)?;
        let first = self.tok(pos)?;
        let last = match last_ident(name) {
            Some(ident) => self.tok(loc_of(ident))?,
            None => first,
        };
        let src = self.cx.src;
        let span = src.toks[first].start..src.toks[last].end;
        match resolved {
            Resolved::Plain => {}
            Resolved::Scoped(table) => self.model.in_tables.push(InTable { span, table }),
            Resolved::View(view) => self.model.views.push(ViewUse {
                span,
                view: view.name.to_ascii_lowercase(),
                alias: None,
            }),
        }
        Ok(())
    }

    /// A table-valued function: allowed when it reads no table rows.
    fn table_function(&mut self, parts: &[String], pos: (u64, u64)) -> Result<(), Refusal> {
        let func = parts.join(".");
        if parts.len() == 1 && TABLE_FUNCTIONS.contains(&func.to_ascii_lowercase().as_str()) {
            self.coverage.resolved.push(pos);
            return Ok(());
        }
        Err(Refusal::TableFunction {
            name: func,
            allowed: TABLE_FUNCTIONS.join(", "),
        })
    }

    /// Resolves a table read by name, and records the use.
    fn resolve(
        &mut self,
        name: &ObjectName,
        parts: &[String],
        pos: (u64, u64),
    ) -> Result<Resolved<'s>, Refusal> {
        let table_name = match parts {
            [table] => {
                if self.scopes.has_cte(table) {
                    self.coverage.resolved.push(pos);
                    return Ok(Resolved::Plain);
                }
                table.clone()
            }
            [schema, table] => {
                if !schema.eq_ignore_ascii_case("main") {
                    return Err(Refusal::OtherSchema {
                        schema: schema.clone(),
                        name: name.to_string(),
                    });
                }
                table.clone()
            }
            _ => {
                return Err(Refusal::TableSource {
                    form: SourceForm::LongName {
                        name: name.to_string(),
                    },
                });
            }
        };
        let lower = table_name.to_ascii_lowercase();
        if SCHEMA_TABLES.contains(&lower.as_str()) && self.cx.policy.allow_schema_reads {
            self.coverage.resolved.push(pos);
            self.record(&table_name, false);
            self.qualify_in_view(parts, pos)?;
            return Ok(Resolved::Plain);
        }
        if lower.starts_with("sqlite_") {
            return Err(Refusal::SystemTable { name: table_name });
        }
        let schema = self.cx.schema;
        let Some(table) = schema.table(&table_name) else {
            if let Some(view) = schema.view(&table_name) {
                self.coverage.resolved.push(pos);
                return Ok(Resolved::View(view));
            }
            return Err(Refusal::UnknownTable {
                name: name.to_string(),
            });
        };
        if self.cx.policy.is_protected(&table.name) {
            return Err(Refusal::Protected {
                name: table.name.clone(),
            });
        }
        self.coverage.resolved.push(pos);
        if !table.has_column(schema.tenant_column()) {
            if !self.cx.policy.is_global(&table.name) {
                return Err(Refusal::UndeclaredTable {
                    name: table.name.clone(),
                });
            }
            self.record(&table.name, false);
            self.qualify_in_view(parts, pos)?;
            return Ok(Resolved::Plain);
        }
        self.record(&table.name, true);
        Ok(Resolved::Scoped(table))
    }

    /// Records that a table was read.
    fn record(&mut self, name: &str, scoped: bool) {
        self.model.tables.push(TableUse {
            name: name.to_owned(),
            scoped,
            access: Access::Read,
        });
    }

    /// In a view's query, an unqualified global table becomes `main.<name>`: the query is
    /// placed inside the caller's statement, whose CTEs must not capture its names.
    fn qualify_in_view(&mut self, parts: &[String], pos: (u64, u64)) -> Result<(), Refusal> {
        if self.cx.in_view && parts.len() == 1 {
            let at = self.cx.src.toks[self.tok(pos)?].start;
            self.model.main_prefixes.push(at);
        }
        Ok(())
    }

    /// The first and last tokens of a (possibly qualified) table name.
    fn name_tokens(&self, name: &ObjectName, pos: (u64, u64)) -> Result<(usize, usize), Refusal> {
        let mut first = self.tok(pos)?;
        let mut last = first;
        for part in &name.0 {
            if let Some(ident) = part.as_ident() {
                last = last.max(self.tok(loc_of(ident))?);
                first = first.min(self.tok(loc_of(ident))?);
            }
        }
        Ok((first, last))
    }

    /// A view in a FROM: its name (and alias) becomes `(<its scoped query>) AS <alias>`.
    /// SQLite reads a view as exactly such a subquery, so the columns, their names and the
    /// rows are the view's, restricted to the tenant.
    fn view_in_from(
        &mut self,
        view: &'s View,
        name: &ObjectName,
        alias: Option<&Ident>,
        pos: (u64, u64),
    ) -> Result<(), Refusal> {
        let (first, mut last) = self.name_tokens(name, pos)?;
        let name_end = last;
        let src = self.cx.src;
        let alias_tok = match alias {
            Some(a) => Some(alias_token(src, name_end, a)?),
            None => None,
        };
        if let Some(a) = alias_tok {
            last = last.max(a);
        }
        let alias_text = src.tok_text(alias_tok.unwrap_or(name_end));
        self.model.views.push(ViewUse {
            span: src.toks[first].start..src.toks[last].end,
            view: view.name.to_ascii_lowercase(),
            alias: Some(alias_text.to_owned()),
        });
        Ok(())
    }
}
