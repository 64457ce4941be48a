"""The training history: a chart of the loss where the sheet opens, then one row per
recorded epoch (loss, outputs, parameters; headers 1-based like the step sheets)."""
from __future__ import annotations

from xlsxwriter.utility import quote_sheetname

from ..display import shown
from . import printing
from .core import check
from .layout import column_px

CHART_ROWS = 18  # the chart covers rows 2-17; the table's header is on row 19
HEADER = CHART_ROWS
CHART_COLUMNS = 7  # the columns under the chart (720 pixels wide)


def _live_columns(book, header) -> list | None:
    """Per column after the epoch's: (its letter, its format's index, the reference to its
    Training column without the row number), when the History can read the Training sheet
    (every epoch live, no mini-batches); else None."""
    plan = book.training
    if plan is None or plan.epoch_row(1) is None:
        return None
    from xlsxwriter.utility import xl_col_to_name

    from .training_sheet import LOSS

    out = []
    names = book.run.history_table()[0]
    for j, name in enumerate(names[1:], 1):
        col = LOSS if name == "loss" else plan.row.col[_key(name)]
        out.append((xl_col_to_name(j), None, f"{quote_sheetname(plan.name)}!${xl_col_to_name(col)}$"))
    return out


def _key(header: str) -> tuple[str, int, int]:
    """``wh[2,3]`` as (name, i, j), 0-based."""
    name, rest = header[:-1].split("[")
    i, j = rest.split(",")
    return name, int(i) - 1, int(j) - 1


def write_history(book, ws) -> None:
    run, msg, st = book.run, book.msg, book.styles
    header, data = run.history_table()
    header = [msg("history.epoch"), msg("history.loss")] + header[2:]
    check(ws, ws.write_url(0, 0, f"internal:{quote_sheetname(book.overview)}!A1", st.link, "← " + book.overview), 0, 0)
    for j, h in enumerate(header):
        check(ws, ws.write_string(HEADER, j, h, st.header), HEADER, j)
    decimals = book.config.decimals
    formats = [None] + [st.cell("trained", shown(data[:, j], decimals + 1).num_format) for j in range(1, data.shape[1])]
    table = data.tolist()
    live = _live_columns(book, header)
    if live:
        live = [(letter, st.cell("link", f.num_format)._get_xf_index(), ref) for (letter, _, ref), f in zip(live, formats[1:])]
    for i, row in enumerate(table, HEADER + 1):
        check(ws, ws.write_number(i, 0, row[0]), i, 0)
        tr = book.training.epoch_row(int(row[0])) if live else None
        if tr is None:
            for j in range(1, len(row)):
                ws.write_number(i, j, row[j], formats[j])
        else:  # links to the Training sheet's row of that epoch: the table follows an edit
            xml = "".join(f'<c r="{letter}{i + 1}" s="{xf}"><f>{ref}{tr + 1}</f><v>{v!r}</v></c>'
                          for (letter, xf, ref), v in zip(live, row[1:]))
            check(ws, ws.write_cells_xml(i, 1, len(row) - 1, xml), i, 1)
    m, loss = len(table), data[:, 1]
    chart = book.wb.add_chart({"type": "scatter", "subtype": "straight"})
    name = quote_sheetname(ws.name)
    chart.add_series({"name": msg("history.loss"), "categories": f"={name}!$A${HEADER + 2}:$A${HEADER + 1 + m}",
                      "values": f"={name}!$B${HEADER + 2}:$B${HEADER + 1 + m}", "line": {"width": 1.5}})
    log = loss.min() > 0 and loss.max() / loss.min() > 100  # spans orders of magnitude
    chart.set_title({"name": msg("history.chart_log" if log else "history.chart")})
    chart.set_x_axis({"name": msg("history.epoch"), "min": 0, "max": int(data[-1, 0]),
                      "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": msg("history.loss"), **({"log_base": 10} if log else {})})
    chart.set_legend({"none": True})
    chart.set_size({"width": 720, "height": 320})
    ws.insert_chart(1, 0, chart, {"x_offset": 4, "y_offset": 4})
    ws.set_column(0, 0, 8)
    width = max(12, max(len(h) for h in header) + 2)
    ws.set_column(1, len(header), width)
    # printed: the chart and the table's first rows, as many columns as beside the chart
    columns = max(CHART_COLUMNS, 1 + (printing.PAGE_PX - column_px(8)) // column_px(width))
    printing.page(ws, HEADER + printing.TABLE_ROWS, min(len(header), columns) - 1, tall=1)
    ws.protect()

