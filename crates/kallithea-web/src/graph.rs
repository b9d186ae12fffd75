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
        // Lanes carrying other lines through this row (they go on even where one of this
        // row's lines joins them).
        let passing: Vec<bool> = lanes.iter().map(Option::is_some).collect();
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
        // Lanes passing by continue straight down (a lane pulled left has moved instead).
        for (c, l) in lanes.iter().enumerate() {
            if l.is_some() && c != col && passing.get(c) == Some(&true) {
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

    /// Every line that reaches a row on the page ends at that row's dot or goes on from
    /// there, and every line leaves from a dot or a line that reached its row.
    fn assert_connected(rows: &[(&str, Vec<&str>)]) {
        let l = layout(rows);
        let n = rows.len();
        for &(c1, r1, c2, r2) in &l.edges {
            let starts_at_dot = l.nodes[r1] == c1;
            let continues = l.edges.iter().any(|e| e.2 == c1 && e.3 == r1);
            assert!(
                starts_at_dot || continues,
                "edge {:?} starts nowhere: {:?}",
                (c1, r1, c2, r2),
                l
            );
            if r2 < n {
                let ends_at_dot = l.nodes[r2] == c2;
                let goes_on = l.edges.iter().any(|e| e.0 == c2 && e.1 == r2);
                assert!(
                    ends_at_dot || goes_on,
                    "edge {:?} stops short: {:?}",
                    (c1, r1, c2, r2),
                    l
                );
            }
        }
    }

    #[test]
    fn a_line_joining_a_lane_does_not_cut_the_line_already_in_it() {
        // Both sides of a merge go back to root: main1's line must reach root, past old1.
        let rows = vec![
            ("m", vec!["main1", "old1"]),
            ("main1", vec!["root"]),
            ("old1", vec!["root"]),
            ("root", vec![]),
        ];
        let l = layout(&rows);
        assert!(l.edges.contains(&(0, 2, 0, 3)), "{l:?}");
        assert_connected(&rows);
    }

    #[test]
    fn random_histories_draw_connected_lines() {
        // Small pseudo-random histories, newest first: each changeset's parents are among
        // the older ones (some beyond the page).
        let mut seed = 7u64;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % m
        };
        for _ in 0..300 {
            let n = 2 + next(14);
            let names: Vec<String> = (0..n + 3).map(|i| format!("c{i}")).collect();
            let mut rows: Vec<(&str, Vec<&str>)> = Vec::new();
            for i in 0..n {
                let count = [1, 1, 1, 2, 2, 3, 0][next(7)];
                let mut parents: Vec<&str> = Vec::new();
                for _ in 0..count {
                    let p = i + 1 + next(n + 2 - i);
                    if !parents.contains(&names[p].as_str()) {
                        parents.push(&names[p]);
                    }
                }
                rows.push((&names[i], parents));
            }
            assert_connected(&rows);
        }
    }

    #[test]
    fn a_straight_line_stays_in_one_lane() {
        let rows = vec![("c", vec!["b"]), ("b", vec!["a"]), ("a", vec![])];
        let l = layout(&rows);
        assert_eq!(l.nodes, vec![0, 0, 0]);
        assert_eq!(l.width, 1);
    }
}
