//! Assigning patients without a médecin traitant to general practitioners who can take them.
//!
//! Objective (lexicographic): among all feasible assignments — each request to at most one doctor, no doctor
//! above their capacity, no pair further apart than the allowed distance — **maximise the total priority
//! weight of the matched requests, then minimise the total distance**.
//!
//! Solved exactly as a minimum-cost flow (source → request → doctor → sink) whose costs are pairs
//! (−weight, distance in centimetres) compared lexicographically, by successive shortest paths with
//! potentials (Dijkstra on reduced costs). Each augmentation adds one unit of flow along a cheapest path;
//! path costs never decrease, and the flow stops as soon as the cheapest path would not lower the cost, which
//! gives the optimum over all flow values.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A request: where the patient lives and how urgent finding a doctor is.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRequest {
    pub id: String,
    pub position: (f64, f64),
    /// Priority weight, at least 1.
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchDoctor {
    pub id: String,
    pub position: (f64, f64),
    pub capacity: u32,
    /// The doctor's own limit, on top of the problem's.
    pub max_distance_km: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub request: usize,
    pub doctor: usize,
    pub distance_km: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matching {
    pub assignments: Vec<Assignment>,
    /// Indexes of the requests left without a doctor.
    pub unassigned: Vec<usize>,
    pub total_weight: u64,
    pub total_distance_km: f64,
}

/// (−weight, distance in cm): smaller is better.
type Cost = (i64, i64);

const ZERO: Cost = (0, 0);

fn add(a: Cost, b: Cost) -> Cost {
    (a.0 + b.0, a.1 + b.1)
}

fn sub(a: Cost, b: Cost) -> Cost {
    (a.0 - b.0, a.1 - b.1)
}

struct Edge {
    to: usize,
    capacity: i64,
    cost: Cost,
}

struct Graph {
    edges: Vec<Edge>,
    /// Edge indexes leaving each node; edge `e ^ 1` is the reverse of `e`.
    out: Vec<Vec<usize>>,
}

impl Graph {
    fn new(nodes: usize) -> Self {
        Self {
            edges: Vec::new(),
            out: vec![Vec::new(); nodes],
        }
    }

    fn add_edge(&mut self, from: usize, to: usize, capacity: i64, cost: Cost) -> usize {
        let index = self.edges.len();
        self.out[from].push(index);
        self.edges.push(Edge { to, capacity, cost });
        self.out[to].push(index + 1);
        self.edges.push(Edge {
            to: from,
            capacity: 0,
            cost: (-cost.0, -cost.1),
        });
        index
    }
}

/// The distance allowed between a request and a doctor.
fn limit_km(doctor: &MatchDoctor, max_distance_km: f64) -> f64 {
    doctor
        .max_distance_km
        .map_or(max_distance_km, |own| own.min(max_distance_km))
}

/// The optimal assignment (see the module documentation). Requests with no doctor in reach stay unassigned.
pub fn solve(requests: &[MatchRequest], doctors: &[MatchDoctor], max_distance_km: f64) -> Matching {
    let (source, sink) = (0, 1);
    let request_node = |i: usize| 2 + i;
    let doctor_node = |j: usize| 2 + requests.len() + j;
    let nodes = 2 + requests.len() + doctors.len();
    let mut graph = Graph::new(nodes);
    let mut pair_edges: Vec<(usize, usize, usize, f64)> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        graph.add_edge(source, request_node(i), 1, (-i64::from(request.weight), 0));
        for (j, doctor) in doctors.iter().enumerate() {
            let distance = crate::territory::distance_km(request.position, doctor.position);
            if distance <= limit_km(doctor, max_distance_km) && doctor.capacity > 0 {
                let centimetres = (distance * 100_000.0).round() as i64;
                let edge = graph.add_edge(request_node(i), doctor_node(j), 1, (0, centimetres));
                pair_edges.push((edge, i, j, distance));
            }
        }
    }
    for (j, doctor) in doctors.iter().enumerate() {
        graph.add_edge(doctor_node(j), sink, i64::from(doctor.capacity), ZERO);
    }

    // Initial potentials: shortest distances from the source in the (acyclic) starting graph, so that every
    // reduced cost is non-negative and Dijkstra applies.
    let unreachable: Cost = (i64::MAX / 4, i64::MAX / 4);
    let mut potential = vec![unreachable; nodes];
    potential[source] = ZERO;
    for i in 0..requests.len() {
        potential[request_node(i)] = (-i64::from(requests[i].weight), 0);
    }
    for (edge, i, j, _) in &pair_edges {
        let through = add(potential[request_node(*i)], graph.edges[*edge].cost);
        if through < potential[doctor_node(*j)] {
            potential[doctor_node(*j)] = through;
        }
    }
    potential[sink] = (0..doctors.len())
        .map(|j| potential[doctor_node(j)])
        .min()
        .unwrap_or(unreachable)
        .min(ZERO);
    for value in potential.iter_mut() {
        if *value == unreachable {
            // Nodes no path reaches yet: any potential keeps reduced costs of their (empty) residual edges valid.
            *value = ZERO;
        }
    }

    let mut distance = vec![unreachable; nodes];
    let mut previous_edge = vec![usize::MAX; nodes];
    let mut visited = vec![false; nodes];
    loop {
        distance.fill(unreachable);
        visited.fill(false);
        distance[source] = ZERO;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((ZERO, source)));
        while let Some(Reverse((d, node))) = heap.pop() {
            if visited[node] {
                continue;
            }
            visited[node] = true;
            if node == sink {
                break;
            }
            for &e in &graph.out[node] {
                let edge = &graph.edges[e];
                if edge.capacity == 0 {
                    continue;
                }
                let reduced = sub(add(edge.cost, potential[node]), potential[edge.to]);
                let candidate = add(d, reduced);
                if candidate < distance[edge.to] {
                    distance[edge.to] = candidate;
                    previous_edge[edge.to] = e;
                    heap.push(Reverse((candidate, edge.to)));
                }
            }
        }
        if !visited[sink] {
            break;
        }
        // The path's true cost; stop when it would not improve the objective.
        let path_cost = sub(add(distance[sink], potential[sink]), potential[source]);
        if path_cost >= ZERO {
            break;
        }
        let sink_distance = distance[sink];
        for node in 0..nodes {
            if visited[node] {
                potential[node] = add(potential[node], distance[node]);
            } else {
                potential[node] = add(potential[node], sink_distance);
            }
        }
        let mut node = sink;
        while node != source {
            let e = previous_edge[node];
            graph.edges[e].capacity -= 1;
            graph.edges[e ^ 1].capacity += 1;
            node = graph.edges[e ^ 1].to;
        }
    }

    let mut matching = Matching::default();
    let mut assigned = vec![false; requests.len()];
    for (edge, i, j, distance) in pair_edges {
        if graph.edges[edge].capacity == 0 {
            assigned[i] = true;
            matching.total_weight += u64::from(requests[i].weight);
            matching.total_distance_km += distance;
            matching.assignments.push(Assignment {
                request: i,
                doctor: j,
                distance_km: distance,
            });
        }
    }
    matching.unassigned = (0..requests.len()).filter(|i| !assigned[*i]).collect();
    matching
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every assignment of a tiny instance, for the best (weight, −distance in cm).
    fn brute_force(requests: &[MatchRequest], doctors: &[MatchDoctor], max_km: f64) -> (u64, i64) {
        fn walk(
            i: usize,
            requests: &[MatchRequest],
            doctors: &[MatchDoctor],
            max_km: f64,
            load: &mut Vec<u32>,
            current: (u64, i64),
            best: &mut (u64, i64),
        ) {
            if i == requests.len() {
                if current.0 > best.0 || (current.0 == best.0 && current.1 < best.1) {
                    *best = current;
                }
                return;
            }
            walk(i + 1, requests, doctors, max_km, load, current, best);
            for (j, doctor) in doctors.iter().enumerate() {
                let d = crate::territory::distance_km(requests[i].position, doctor.position);
                if load[j] < doctor.capacity && d <= limit_km(doctor, max_km) {
                    load[j] += 1;
                    let cm = (d * 100_000.0).round() as i64;
                    let next = (current.0 + u64::from(requests[i].weight), current.1 + cm);
                    walk(i + 1, requests, doctors, max_km, load, next, best);
                    load[j] -= 1;
                }
            }
        }
        let mut best = (0, 0);
        walk(
            0,
            requests,
            doctors,
            max_km,
            &mut vec![0; doctors.len()],
            (0, 0),
            &mut best,
        );
        best
    }

    /// A tiny deterministic generator (no dependency).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % below
        }
    }

    #[test]
    fn random_instances_match_an_exhaustive_search() {
        let mut rng = Lcg(7);
        for _ in 0..400 {
            let around = |rng: &mut Lcg| {
                (
                    43.6 + rng.next(40) as f64 / 100.0,
                    4.2 + rng.next(40) as f64 / 100.0,
                )
            };
            let requests: Vec<MatchRequest> = (0..1 + rng.next(7))
                .map(|i| MatchRequest {
                    id: format!("r{i}"),
                    position: around(&mut rng),
                    weight: 1 + rng.next(6) as u32,
                })
                .collect();
            let doctors: Vec<MatchDoctor> = (0..1 + rng.next(3))
                .map(|j| MatchDoctor {
                    id: format!("d{j}"),
                    position: around(&mut rng),
                    capacity: rng.next(3) as u32,
                    max_distance_km: (rng.next(2) == 0).then(|| 10.0 + rng.next(20) as f64),
                })
                .collect();
            let max_km = 15.0 + rng.next(25) as f64;
            let solved = solve(&requests, &doctors, max_km);
            let centimetres: i64 = solved
                .assignments
                .iter()
                .map(|a| (a.distance_km * 100_000.0).round() as i64)
                .sum();
            assert_eq!(
                (solved.total_weight, centimetres),
                brute_force(&requests, &doctors, max_km)
            );
            let mut load = vec![0; doctors.len()];
            for a in &solved.assignments {
                load[a.doctor] += 1;
                assert!(a.distance_km <= limit_km(&doctors[a.doctor], max_km));
            }
            assert!(load.iter().zip(&doctors).all(|(l, d)| *l <= d.capacity));
            assert_eq!(
                solved.assignments.len() + solved.unassigned.len(),
                requests.len()
            );
        }
    }

    #[test]
    fn heavier_requests_win_then_shorter_trips() {
        let here = (43.58, 4.32);
        let requests = vec![
            MatchRequest {
                id: "light".into(),
                position: here,
                weight: 1,
            },
            MatchRequest {
                id: "heavy".into(),
                position: (43.70, 4.32),
                weight: 5,
            },
        ];
        let doctors = vec![MatchDoctor {
            id: "d".into(),
            position: here,
            capacity: 1,
            max_distance_km: None,
        }];
        let solved = solve(&requests, &doctors, 30.0);
        assert_eq!(solved.total_weight, 5);
        assert_eq!(solved.unassigned, vec![0]);
    }
}
