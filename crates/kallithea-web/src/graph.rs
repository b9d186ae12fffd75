//! The changelog graph: lanes for the visible page of changesets, drawn as an SVG picture
//! beside the table (one row per changeset). Work is bounded by the page, not the history.

use std::fmt::Write;

/// Most parents of one changeset drawn (octopus merges can have hundreds).
const MAX_PARENTS: usize = 16;

/// Pixel height of one changelog row; the table's CSS uses the same.
pub const ROW: u32 = 32;
const COL: u32 = 14;

/// Lane of each node and the edges between rows: `(from_col, from_row, to_col, to_row)`.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub nodes: Vec<usize>,
    pub edges: Vec<(usize, usize, usize, usize)>,
    pub width: usize,
}

/// Lays out changesets given newest first as `(id, parents)`.
pub fn layout(rows: &[(&str, Vec<&str>)]) -> Layout {
    let mut lanes: Vec<Option<&str>> = Vec::new();
    let mut nodes = Vec::with_capacity(rows.len());
    let mut edges = Vec::new();
    let mut width = 1;
    for (r, (id, all_parents)) in rows.iter().enumerate() {
        // An octopus merge draws at most MAX_PARENTS lines.
        let parents = &all_parents[..all_parents.len().min(MAX_PARENTS)];
        let waiting: Vec<usize> = lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == Some(*id))
            .map(|(i, _)| i)
            .collect();
        let col = match waiting.first() {
            Some(c) => *c,
            None => match lanes.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    lanes.push(None);
                    lanes.len() - 1
                }
            },
        };
        // Other lanes that waited for this changeset end here.
        for &c in waiting.iter().skip(1) {
            lanes[c] = None;
        }
        nodes.push(col);
        lanes[col] = None;
        let row_start = edges.len();
        for (i, p) in parents.iter().enumerate() {
            let target = if let Some(existing) = lanes.iter().position(|l| *l == Some(*p)) {
                if i == 0 && existing > col {
                    // Pull the parent's lane left into this one, so history keeps to the left.
                    lanes[existing] = None;
                    lanes[col] = Some(p);
                    edges.push((existing, r, col, r + 1));
                    col
                } else {
                    existing
                }
            } else if i == 0 {
                lanes[col] = Some(p);
                col
            } else {
                let free = lanes.iter().position(Option::is_none).unwrap_or_else(|| {
                    lanes.push(None);
                    lanes.len() - 1
                });
                lanes[free] = Some(p);
                free
            };
            edges.push((col, r, target, r + 1));
        }
        // Lanes passing by continue straight down (only this row's edges need checking).
        let this_row: Vec<usize> = edges[row_start..]
            .iter()
            .filter(|e| e.1 == r && e.0 == col)
            .map(|e| e.2)
            .collect();
        for (c, l) in lanes.iter().enumerate() {
            if l.is_some() && c != col && !this_row.contains(&c) {
                edges.push((c, r, c, r + 1));
            }
        }
        width = width.max(lanes.len());
    }
    Layout {
        nodes,
        edges,
        width,
    }
}

fn x(col: usize) -> u32 {
    col as u32 * COL + COL / 2 + 2
}
fn y(row: usize) -> u32 {
    row as u32 * ROW + ROW / 2
}

/// The SVG picture of a layout (lines first, then dots).
pub fn svg(l: &Layout) -> String {
    let w = l.width as u32 * COL + 4;
    let h = l.nodes.len() as u32 * ROW;
    let mut s = format!(
        r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="Changeset graph">"#
    );
    for &(c1, r1, c2, r2) in &l.edges {
        let (x1, y1, x2) = (x(c1), y(r1), x(c2));
        let y2 = if r2 >= l.nodes.len() { h } else { y(r2) };
        let lane = if c2 > c1 { c2 } else { c1 };
        if x1 == x2 {
            let _ = write!(s, r#"<path class="l{}" d="M{x1} {y1}V{y2}"/>"#, lane % 8);
        } else {
            let mid = y1 + ROW / 2;
            let _ = write!(
                s,
                r#"<path class="l{}" d="M{x1} {y1}C{x1} {mid} {x2} {y1} {x2} {mid}V{y2}"/>"#,
                lane % 8
            );
        }
    }
    for (r, &c) in l.nodes.iter().enumerate() {
        let _ = write!(
            s,
            r#"<circle class="l{}" cx="{}" cy="{}" r="4"/>"#,
            c % 8,
            x(c),
            y(r)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_opens_and_closes_a_lane() {
        // m merges b into a; a and b both come from root.
        let rows = vec![
            ("m", vec!["a", "b"]),
            ("b", vec!["root"]),
            ("a", vec!["root"]),
            ("root", vec![]),
        ];
        let l = layout(&rows);
        assert_eq!(l.nodes, vec![0, 1, 0, 0]);
        assert_eq!(l.width, 2);
        assert!(
            l.edges.contains(&(0, 0, 1, 1)),
            "merge edge to the second lane: {:?}",
            l.edges
        );
        assert!(
            l.edges.contains(&(1, 1, 0, 2)) || l.edges.contains(&(1, 1, 1, 2)),
            "{:?}",
            l.edges
        );
        let pic = svg(&l);
        assert_eq!(pic.matches("<circle").count(), 4);
    }

    #[test]
    fn a_straight_line_stays_in_one_lane() {
        let rows = vec![("c", vec!["b"]), ("b", vec!["a"]), ("a", vec![])];
        let l = layout(&rows);
        assert_eq!(l.nodes, vec![0, 0, 0]);
        assert_eq!(l.width, 1);
    }
}
