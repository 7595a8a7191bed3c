"""Register or edit a system: its owner, hosting, datasets and fields, and the flows leaving it.

The form builds the same document a manifest holds (``systems:`` and ``flows:``) and validates it
with the same specs, so every error names its manifest field path and the likely fix. Saving
writes one ingest run as the ``dashboard`` source (``dashboards.actions.register_system``, which
checks the permission again) and shows the equivalent YAML for catalog-as-code repositories.
A flow's transfer mechanism and its TIA / TRA can be recorded here, so a transfer gap can be closed
from the form. Attributes the form does not show (descriptions of datasets and fields, data
subjects, retention, ...) are kept as they are when a system is edited; datasets, fields and flows
removed from the form are retired by the same run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import streamlit as st

from catalog.graph import NodeKind
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from catalog.vocab import FlowMechanism, SystemRole, SystemStatus, TransferMechanism
from dashboards.actions import editable_systems, register_system, registration_document
from dashboards.auth import Permission, PermissionDenied, User, require
from dashboards.state import Snapshot, current_snapshot, require_catalog
from dashboards.views import country_name, enum_label

NEW = "__new__"
FIELD_COLUMNS = ["dataset", "field", "categories", "data_type"]
FLOW_COLUMNS = ["id", "to", "categories", "mechanism", "activity", "transfer_mechanism", "transfer_assessment_ref"]
SYSTEM_KEYS = ("id", "name", "description", "owner_team", "owner_email", "role", "status", "hosted_in")


# --- pure helpers (tested without Streamlit) --------------------------------------------------

def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _keys(value: Any) -> list[str]:
    """A cell of a multiselect column as a list of keys (lists, arrays, or comma-separated text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [str(item).strip() for item in value if _text(item)]
    return [str(value)]


def fields_frame(document: dict | None) -> pd.DataFrame:
    """One row per field (a dataset without fields is one row with no field name)."""
    rows = []
    for system in (document or {}).get("systems", [])[:1]:
        for dataset in system.get("datasets", []):
            fields = dataset.get("fields") or [None]
            for item in fields:
                rows.append({
                    "dataset": dataset["name"], "field": item["name"] if item else "",
                    "categories": list(item.get("categories", [])) if item else [],
                    "data_type": (item.get("data_type") or "") if item else "",
                })
    return pd.DataFrame(rows, columns=FIELD_COLUMNS).astype({"dataset": "string", "field": "string", "data_type": "string"})


def flows_frame(document: dict | None) -> pd.DataFrame:
    rows = [
        {"id": flow["id"], "to": flow["to"], "categories": list(flow.get("categories", [])),
         "mechanism": flow.get("mechanism") or FlowMechanism.API.value, "activity": flow.get("activity") or "",
         "transfer_mechanism": flow.get("transfer_mechanism") or "", "transfer_assessment_ref": flow.get("transfer_assessment_ref") or ""}
        for flow in (document or {}).get("flows", [])
    ]
    text = ["id", "to", "mechanism", "activity", "transfer_mechanism", "transfer_assessment_ref"]
    return pd.DataFrame(rows, columns=FLOW_COLUMNS).astype(dict.fromkeys(text, "string"))


def _records(frame: pd.DataFrame | list | None) -> list[dict]:
    if frame is None:
        return []
    if isinstance(frame, pd.DataFrame):
        return frame.to_dict("records")
    return list(frame)


def build_spec_data(base: dict | None, system_values: dict[str, Any], fields, flows) -> dict[str, Any]:
    """The ``{systems: [system], flows: [...]}`` document from the form, keeping what it does not show.

    ``base`` is the current document of an edited system (``registration_document``), or None.
    Blank rows are ignored; a row naming a field but no dataset is kept so validation reports it.
    """
    base_system = dict((base or {}).get("systems", [{}])[0]) if base else {}
    base_datasets = {d["name"]: d for d in base_system.get("datasets", [])}
    system = {**base_system, **{key: system_values[key] for key in SYSTEM_KEYS if key in system_values}}
    datasets: dict[str, dict] = {}
    for row in _records(fields):
        dataset_name, field_name = _text(row.get("dataset")), _text(row.get("field"))
        if not dataset_name and not field_name:
            continue
        if dataset_name not in datasets:
            kept = {k: v for k, v in base_datasets.get(dataset_name, {}).items() if k != "fields"}
            datasets[dataset_name] = {**kept, "name": dataset_name, "fields": []}
        if field_name:
            old_fields = {f["name"]: f for f in base_datasets.get(dataset_name, {}).get("fields", [])}
            item = {**old_fields.get(field_name, {}), "name": field_name, "categories": _keys(row.get("categories"))}
            item["data_type"] = _text(row.get("data_type")) or None
            datasets[dataset_name]["fields"].append(item)
    system["datasets"] = list(datasets.values())
    base_flows = {f["id"]: f for f in (base or {}).get("flows", [])}
    flow_documents = []
    for row in _records(flows):
        flow_id, target = _text(row.get("id")), _text(row.get("to"))
        if not flow_id and not target and not _keys(row.get("categories")):
            continue
        flow = {**base_flows.get(flow_id, {}), "id": flow_id, "from": system.get("id", ""), "to": target, "categories": _keys(row.get("categories"))}
        flow["mechanism"] = _text(row.get("mechanism")) or FlowMechanism.API.value
        flow["activity"] = _text(row.get("activity")) or None
        flow["transfer_mechanism"] = _text(row.get("transfer_mechanism")) or None  # closes a transfer gap from the form
        flow["transfer_assessment_ref"] = _text(row.get("transfer_assessment_ref")) or None
        flow_documents.append(flow)
    return {"systems": [system], "flows": flow_documents}


# --- the page ------------------------------------------------------------------------------------

def _category_options() -> tuple[list[str], Any]:
    taxonomy = load_taxonomy()
    keys = list(taxonomy.entries(TaxonomyKind.DATA_CATEGORY))
    return keys, lambda key: f"{taxonomy.label(TaxonomyKind.DATA_CATEGORY, key)} ({key})"


def _location_options(snapshot: Snapshot) -> dict[str, str]:
    graph = snapshot.graph
    options = {}
    for key in graph.nodes_of(NodeKind.LOCATION):
        node = graph.node(key)
        options[node["id"]] = f"{node['label']} ({node['id']}, {country_name(node.get('country') or '')})"
    return dict(sorted(options.items(), key=lambda item: item[1].casefold()))


def _target_options(snapshot: Snapshot, system_id: str) -> list[str]:
    graph = snapshot.graph
    systems = [graph.node(key)["id"] for key in graph.nodes_of(NodeKind.SYSTEM)]
    parties = [graph.node(key)["id"] for key in graph.nodes_of(NodeKind.PARTY)]
    return sorted({*systems, *parties} - {system_id})


def choose_target(user: User, catalog) -> str:
    systems = editable_systems(user, catalog)
    labels = {NEW: "A new system", **{s.id: f"{s.name} ({s.id})" for s in systems}}
    help_text = "Systems you may edit: all of them" if user.can(Permission.EDIT_ANY_SYSTEM) else "Systems you may edit: those owned by your email or one of your teams"
    return st.selectbox("Register or edit", list(labels), format_func=labels.get, key="reg_target", help=help_text)


def render_problems(problems) -> None:
    st.error(f"{len(problems)} problem(s) in what was entered; nothing was saved. Each is named by its place in the system's manifest "
             "(the YAML a successful save shows): systems[0] is this system, datasets[0] its first dataset, flows[0] its first flow.")
    st.dataframe(
        pd.DataFrame([{"Field path": p.field_path, "Problem": p.message, "Did you mean": p.suggestion or ""} for p in problems], columns=["Field path", "Problem", "Did you mean"]),
        hide_index=True, width="stretch",
    )


def render_saved(result) -> None:
    what = "Registered" if result.created else "Saved"
    system_id = result.spec.systems[0].id
    st.success(f"{what} system {system_id} (ingest run {result.run_id}, {len(result.changes)} change(s)).")
    st.caption("The same system as a manifest, to commit to a catalog-as-code repository (a later manifest run then owns it):")
    st.code(result.manifest_yaml, language="yaml")
    st.download_button(
        "Download the manifest (YAML)", data=result.manifest_yaml, file_name=f"{system_id}.yaml",
        mime="application/yaml", on_click="ignore", key="reg_download",
    )


def render() -> None:
    user = require(Permission.REGISTER_SYSTEM)
    catalog = require_catalog()
    snapshot = current_snapshot()
    st.title("Register a system")
    st.caption(
        "Validated exactly like a manifest file. Engineers register systems owned by their own email or team "
        "and edit the systems they own; the DPO may edit any system."
    )
    target = choose_target(user, catalog)
    base = None if target == NEW else registration_document(catalog, target)
    system = (base or {}).get("systems", [{}])[0] if base else {}
    locations = _location_options(snapshot)
    category_keys, category_label = _category_options()
    activities = {a.id: a.name for a in snapshot.activities}
    suffix = target

    with st.form(key=f"reg_form_{suffix}"):
        columns = st.columns(2)
        system_id = columns[0].text_input("Id", value=system.get("id", ""), disabled=target != NEW, key=f"reg_id_{suffix}",
                                          help="Lower-case letters, digits, '-' and '_'; other entries refer to it.")
        name = columns[1].text_input("Name", value=system.get("name", ""), key=f"reg_name_{suffix}")
        description = st.text_area("Description", value=system.get("description", ""), key=f"reg_description_{suffix}")
        columns = st.columns(2)
        owner_team = columns[0].text_input("Owner team", value=system.get("owner_team", user.teams[0] if user.teams and target == NEW else ""), key=f"reg_team_{suffix}")
        owner_email = columns[1].text_input("Owner email", value=system.get("owner_email", user.email if target == NEW else ""), key=f"reg_email_{suffix}")
        columns = st.columns(2)
        roles = SystemRole.choices()
        role = columns[0].selectbox("Our role", roles, index=roles.index(system.get("role", SystemRole.CONTROLLER.value)),
                                    format_func=lambda v: enum_label(SystemRole, v), key=f"reg_role_{suffix}")
        statuses = SystemStatus.choices()
        status = columns[1].selectbox("Status", statuses, index=statuses.index(system.get("status", SystemStatus.ACTIVE.value)),
                                      format_func=lambda v: enum_label(SystemStatus, v), key=f"reg_status_{suffix}")
        hosted_in = st.multiselect("Hosted in", list(locations), default=[x for x in system.get("hosted_in", []) if x in locations],
                                   format_func=lambda x: locations.get(x, x), key=f"reg_hosted_{suffix}")

        st.subheader("Datasets and fields")
        st.caption("One row per field; a dataset's rows share its name. Categories come from the data category taxonomy.")
        fields = st.data_editor(
            fields_frame(base), num_rows="dynamic", hide_index=True, width="stretch", key=f"reg_fields_{suffix}",
            column_config={
                "dataset": st.column_config.TextColumn("Dataset"),  # not required: Streamlit would drop the row; validation names it
                "field": st.column_config.TextColumn("Field"),
                "categories": st.column_config.MultiselectColumn("Data categories", options=category_keys, format_func=category_label, width="large"),
                "data_type": st.column_config.TextColumn("Data type"),
            },
        )

        st.subheader("Flows out of this system")
        st.caption("To one of our systems or to a party (recipients of personal data). Saving retires the datasets, fields and flows removed here.")
        mechanisms = FlowMechanism.choices()
        flows = st.data_editor(
            flows_frame(base), num_rows="dynamic", hide_index=True, width="stretch", key=f"reg_flows_{suffix}",
            column_config={
                "id": st.column_config.TextColumn("Flow id", required=True),
                "to": st.column_config.SelectboxColumn("To (system or party)", options=_target_options(snapshot, system.get("id", "")), required=True),
                "categories": st.column_config.MultiselectColumn("Data categories", options=category_keys, format_func=category_label, width="large"),
                "mechanism": st.column_config.SelectboxColumn("Mechanism", options=mechanisms, format_func=lambda v: enum_label(FlowMechanism, v), default=FlowMechanism.API.value),
                "activity": st.column_config.SelectboxColumn("Processing activity", options=list(activities), format_func=lambda v: f"{activities.get(v, v)} ({v})"),
                "transfer_mechanism": st.column_config.SelectboxColumn(
                    "Transfer mechanism", options=TransferMechanism.choices(), format_func=lambda v: enum_label(TransferMechanism, v),
                    help="For a transfer to a third country: the tool on record for this flow (overrides the receiving party's).",
                ),
                "transfer_assessment_ref": st.column_config.TextColumn("TIA / TRA", help="Link to the transfer impact or risk assessment."),
            },
        )
        submitted = st.form_submit_button("Register system" if target == NEW else "Save changes", type="primary", key="reg_submit")

    if not submitted:
        return
    values = {
        "id": system_id if target == NEW else target, "name": name, "description": description, "owner_team": owner_team,
        "owner_email": owner_email, "role": role, "status": status, "hosted_in": hosted_in,
    }
    spec_data = build_spec_data(base, values, fields, flows)
    try:
        result = register_system(user, spec_data, catalog=catalog, new=target == NEW)
    except PermissionDenied as exc:
        st.error("Not saved: you may not write this system.")
        st.text(str(exc))
        return
    if result.problems:
        render_problems(result.problems)
        return
    render_saved(result)


if __name__ == "__main__":
    render()
