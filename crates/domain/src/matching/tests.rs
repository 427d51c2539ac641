//! Tests of the matching engine: small cases by hand, and the optimum checked against brute force.

use super::*;

mod reference {
    use super::super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

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

    /// The previous engine, one augmenting path at a time: slow at scale, simple enough to trust.
    pub fn successive_shortest_paths(
        requests: &[MatchRequest],
        doctors: &[MatchDoctor],
        max_distance_km: f64,
    ) -> Matching {
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
}

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
                let cm = centimetres(d);
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
        assert_eq!(objective(&solved), brute_force(&requests, &doctors, max_km));
        check_feasible(&solved, &requests, &doctors, max_km);
    }
}

/// Sum of distances in whole centimetres, the unit of the objective.
fn objective(solved: &Matching) -> (u64, i64) {
    (
        solved.total_weight,
        solved
            .assignments
            .iter()
            .map(|a| centimetres(a.distance_km))
            .sum(),
    )
}

fn check_feasible(
    solved: &Matching,
    requests: &[MatchRequest],
    doctors: &[MatchDoctor],
    max_km: f64,
) {
    let mut load = vec![0; doctors.len()];
    let mut seen = vec![false; requests.len()];
    for a in &solved.assignments {
        assert!(!seen[a.request], "request assigned twice");
        seen[a.request] = true;
        load[a.doctor] += 1;
        let d =
            crate::territory::distance_km(requests[a.request].position, doctors[a.doctor].position);
        assert!(d <= limit_km(&doctors[a.doctor], max_km));
    }
    assert!(load.iter().zip(doctors).all(|(l, d)| *l <= d.capacity));
    assert_eq!(
        solved.assignments.len() + solved.unassigned.len(),
        requests.len()
    );
}

#[test]
fn larger_instances_match_one_augmenting_path_at_a_time() {
    let mut rng = Lcg(11);
    for round in 0..60 {
        // Few distinct places, so that many requests and doctors share one (as in a commune).
        let places: Vec<(f64, f64)> = (0..3 + rng.next(25))
            .map(|_| {
                (
                    43.5 + rng.next(60) as f64 / 100.0,
                    4.0 + rng.next(60) as f64 / 100.0,
                )
            })
            .collect();
        let pick = |rng: &mut Lcg| places[rng.next(places.len() as u64) as usize];
        let requests: Vec<MatchRequest> = (0..20 + rng.next(200))
            .map(|i| MatchRequest {
                id: format!("r{i}"),
                position: pick(&mut rng),
                weight: 1 + rng.next(if round % 2 == 0 { 3 } else { 12 }) as u32,
            })
            .collect();
        let doctors: Vec<MatchDoctor> = (0..2 + rng.next(20))
            .map(|j| MatchDoctor {
                id: format!("d{j}"),
                position: pick(&mut rng),
                capacity: rng.next(15) as u32,
                max_distance_km: (rng.next(3) == 0).then(|| 5.0 + rng.next(30) as f64),
            })
            .collect();
        let max_km = 10.0 + rng.next(40) as f64;
        let solved = solve(&requests, &doctors, max_km);
        check_feasible(&solved, &requests, &doctors, max_km);
        let expected = reference::successive_shortest_paths(&requests, &doctors, max_km);
        assert_eq!(objective(&solved), objective(&expected), "round {round}");
    }
}

#[test]
fn ruled_out_pairs_are_never_matched() {
    let place = (43.7, 4.3);
    let requests: Vec<MatchRequest> = (0..4)
        .map(|i| MatchRequest {
            id: format!("r{i}"),
            position: place,
            weight: 1 + i as u32,
        })
        .collect();
    let doctors = vec![
        MatchDoctor {
            id: "d0".into(),
            position: place,
            capacity: 2,
            max_distance_km: None,
        },
        MatchDoctor {
            id: "d1".into(),
            position: (43.75, 4.3),
            capacity: 1,
            max_distance_km: None,
        },
    ];
    // The heaviest request (r3) may not see d0, the second heaviest no doctor at all.
    let allowed = |i: usize, j: usize| !(i == 3 && j == 0) && i != 2;
    let solved = solve_with(&requests, &doctors, 30.0, &allowed);
    check_feasible(&solved, &requests, &doctors, 30.0);
    for a in &solved.assignments {
        assert!(allowed(a.request, a.doctor));
    }
    assert_eq!(solved.total_weight, 4 + 2 + 1);
    assert_eq!(solved.unassigned, vec![2]);
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
