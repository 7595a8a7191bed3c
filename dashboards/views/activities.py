"""Processing activities: the Article 30 record as filterable tables (controller 30(1), processor 30(2)).

The record comes from ``catalog.record`` so the page says exactly what the workbook says; where
that module is not installed the page falls back to the activities as stored.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from catalog.models import ProcessingActivity
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from catalog.vocab import LawfulBasis, SystemRole
from dashboards.state import current_record, current_snapshot
from dashboards.views import ALL, categories_text, enum_label

ACTIVITY_COLUMN = "Activity"


def search(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows with the text anywhere in them, ignoring case."""
    if not text.strip() or table.empty:
        return table
    needle = text.strip().casefold()
    hit = table.astype(str).apply(lambda column: column.str.casefold().str.contains(needle, regex=False)).any(axis=1)
    return table[hit]


def render_record(record) -> None:
    from catalog.record import CONTROLLER_COLUMNS, CONTROLLER_SECTIONS, PROCESSOR_COLUMNS

    filters = st.columns([2, 1, 2])
    text = filters[0].text_input("Search", key="activities_search", placeholder="any word in any column")
    functions = sorted({row.business_function for row in record.controller_rows if row.business_function}, key=str.casefold)
    function = filters[1].selectbox("Business function", [ALL, *functions], key="activities_function")
    sections = filters[2].multiselect(
        "Template sections", list(CONTROLLER_SECTIONS), default=list(CONTROLLER_SECTIONS[:2]), key="activities_sections",
    )
    special_only = st.checkbox("Only activities with special category or criminal offence data", key="activities_special")

    rows = [
        row for row in record.controller_rows
        if (function == ALL or row.business_function == function) and (not special_only or row.special_category or row.criminal_offence)
    ]
    headings = [column.heading for column in CONTROLLER_COLUMNS if column.section in (sections or CONTROLLER_SECTIONS)]
    controller = pd.DataFrame(
        [{ACTIVITY_COLUMN: row.activity_name, **row.as_dict()} for row in rows],
        columns=[ACTIVITY_COLUMN, *[column.heading for column in CONTROLLER_COLUMNS]],
    )
    st.subheader("Controller record (Article 30(1))")
    st.dataframe(search(controller, text)[[ACTIVITY_COLUMN, *headings]], hide_index=True, width="stretch")

    st.subheader("Processor record (Article 30(2))")
    processor = pd.DataFrame([row.as_dict() for row in record.processor_rows], columns=[column.heading for column in PROCESSOR_COLUMNS])
    if processor.empty:
        st.caption("We act as processor for no client controller.")
    else:
        st.dataframe(search(processor, text), hide_index=True, width="stretch")


def stored_activities_table(activities: list[ProcessingActivity]) -> pd.DataFrame:
    """The activities as stored, when the derived record is not available."""
    taxonomy = load_taxonomy()
    return pd.DataFrame(
        [
            {
                ACTIVITY_COLUMN: activity.name,
                "Business function": activity.business_function,
                "Purpose": activity.purpose_text,
                "Data uses": "; ".join(taxonomy.label(TaxonomyKind.DATA_USE, key) for key in activity.purposes),
                "Data subjects": "; ".join(taxonomy.label(TaxonomyKind.DATA_SUBJECT, key) for key in activity.data_subjects),
                "Declared data categories": categories_text(activity.data_categories),
                "Lawful basis": enum_label(LawfulBasis, activity.lawful_basis),
                "Retention": activity.retention or "",
            }
            for activity in activities
        ],
        columns=[ACTIVITY_COLUMN, "Business function", "Purpose", "Data uses", "Data subjects", "Declared data categories", "Lawful basis", "Retention"],
    )


def render_stored() -> None:
    activities = current_snapshot().activities
    text = st.text_input("Search", key="activities_search", placeholder="any word in any column")
    controller = [a for a in activities if a.role != SystemRole.PROCESSOR]
    processor = [a for a in activities if a.role == SystemRole.PROCESSOR]
    st.subheader("As controller (Article 30(1))")
    st.dataframe(search(stored_activities_table(controller), text), hide_index=True, width="stretch")
    st.subheader("As processor (Article 30(2))")
    st.dataframe(search(stored_activities_table(processor), text), hide_index=True, width="stretch")


def render() -> None:
    st.title("Processing activities")
    try:
        record = current_record()
    except ImportError:
        st.info("The derived Article 30 record is unavailable in this installation; showing the activities as stored.")
        render_stored()
        return
    render_record(record)


if __name__ == "__main__":
    render()
