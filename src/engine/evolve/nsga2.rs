//! The two building blocks of NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002): sorting a pool
//! into non-dominated fronts, and the crowding distance that keeps a front spread out.
//! Points are objective vectors oriented so that larger is better in every component.

/// True if `a` is at least as good as `b` everywhere and strictly better somewhere.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return false;
        }
        strictly |= x > y;
    }
    strictly
}

/// The fronts of `points`: front 0 holds the points nobody dominates, front k those dominated
/// only by points of earlier fronts. Indices within a front are ascending. O(M·P²).
pub fn non_dominated_fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let p = points.len();
    let mut dominated_by_count = vec![0usize; p];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); p];
    for a in 0..p {
        for b in a + 1..p {
            if dominates(&points[a], &points[b]) {
                dominates_list[a].push(b);
                dominated_by_count[b] += 1;
            } else if dominates(&points[b], &points[a]) {
                dominates_list[b].push(a);
                dominated_by_count[a] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..p).filter(|&i| dominated_by_count[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &a in &current {
            for &b in &dominates_list[a] {
                dominated_by_count[b] -= 1;
                if dominated_by_count[b] == 0 {
                    next.push(b);
                }
            }
        }
        next.sort_unstable();
        fronts.push(std::mem::replace(&mut current, next));
    }
    fronts
}

/// Crowding distance of each member of `front` (same order): the sum over objectives of the
/// normalised gap between its two neighbours along that objective; the extremes of every
/// objective get infinity. Ties are ordered by index, so the result is deterministic.
pub fn crowding_distances(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let size = front.len();
    let mut distance = vec![0.0; size];
    if size == 0 {
        return distance;
    }
    let objectives = points[front[0]].len();
    let columns: Vec<Vec<f64>> = (0..objectives)
        .map(|m| front.iter().map(|&i| points[i][m]).collect())
        .collect();
    for value in &columns {
        let mut order: Vec<usize> = (0..size).collect();
        order.sort_by(|&a, &b| value[a].total_cmp(&value[b]).then(front[a].cmp(&front[b])));
        let (low, high) = (value[order[0]], value[order[size - 1]]);
        distance[order[0]] = f64::INFINITY;
        distance[order[size - 1]] = f64::INFINITY;
        let range = high - low;
        if range <= 0.0 {
            continue;
        }
        for w in order.windows(3) {
            distance[w[1]] += (value[w[2]] - value[w[0]]) / range;
        }
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domination_needs_one_strict_improvement() {
        assert!(dominates(&[2.0, 1.0], &[1.0, 1.0]));
        assert!(!dominates(&[1.0, 1.0], &[1.0, 1.0]));
        assert!(!dominates(&[2.0, 0.0], &[1.0, 1.0]));
    }

    #[test]
    fn fronts_of_a_hand_made_pool() {
        // Maximise both. Front 0: (4,1), (3,3), (1,4); front 1: (2,2) and (3,1), dominated
        // only by front-0 points; front 2: (1,1), dominated by (2,2) as well.
        let points = vec![
            vec![1.0, 1.0],
            vec![4.0, 1.0],
            vec![3.0, 3.0],
            vec![2.0, 2.0],
            vec![1.0, 4.0],
            vec![3.0, 1.0],
        ];
        let fronts = non_dominated_fronts(&points);
        assert_eq!(fronts, vec![vec![1, 2, 4], vec![3, 5], vec![0]]);
    }

    #[test]
    fn duplicates_share_a_front() {
        let points = vec![vec![1.0, 2.0], vec![1.0, 2.0], vec![0.0, 0.0]];
        assert_eq!(non_dominated_fronts(&points), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn crowding_of_a_hand_made_front() {
        // Front along x + y = 4: x = 0, 1, 3, 4 (y = 4, 3, 1, 0); ranges are 4 in both.
        let points = vec![
            vec![3.0, 1.0],
            vec![0.0, 4.0],
            vec![4.0, 0.0],
            vec![1.0, 3.0],
        ];
        let d = crowding_distances(&points, &[0, 1, 2, 3]);
        assert_eq!(d[1], f64::INFINITY);
        assert_eq!(d[2], f64::INFINITY);
        // x = 1: neighbours 0 and 3 → 3/4 per objective; x = 3: neighbours 1 and 4 → 3/4.
        assert!((d[3] - 1.5).abs() < 1e-15);
        assert!((d[0] - 1.5).abs() < 1e-15);
        let single = crowding_distances(&points, &[3]);
        assert_eq!(single, vec![f64::INFINITY]);
    }
}
