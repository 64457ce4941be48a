"""History: one row per recorded epoch, and a chart of the loss."""
from __future__ import annotations

from .core import check


def write_history(book, ws):
    header, data = book.run.history_table()
    for j, h in enumerate(header):
        check(ws, ws.write_string(0, j, h, book.f_bold), 0, j)
    table = data.tolist()
    for i, row in enumerate(table, 1):
        check(ws, ws.write_number(i, 0, row[0]), i, 0)
        for j in range(1, len(row)):
            check(ws, ws.write_number(i, j, row[j], book.f_full), i, j)
    m = len(table)
    chart = book.wb.add_chart({"type": "line"})
    chart.add_series({"name": "loss", "categories": ["History", 1, 0, m, 0],
                      "values": ["History", 1, 1, m, 1]})
    chart.set_title({"name": "Loss per epoch"})
    chart.set_x_axis({"name": "epoch"})
    chart.set_y_axis({"name": "loss"})
    chart.set_legend({"none": True})
    ws.insert_chart(1, len(header) + 1, chart)
    ws.freeze_panes(1, 1)
