//! Assigning patients without a médecin traitant to general practitioners who can take them.
//!
//! Objective (lexicographic): among all feasible assignments — each request to at most one doctor, no doctor
//! above their capacity, no pair further apart than the allowed distance — **maximise the total priority
//! weight of the matched requests, then minimise the total distance** (great-circle, counted in whole
//! centimetres so that the optimum is exact).
//!
//! Solved exactly as a minimum-cost circulation (source → request → doctor → sink → source). The two criteria
//! become one integer cost per arc: a matched request earns −weight × `unit`, where `unit` exceeds any total
//! distance a solution could have, and a request–doctor arc costs its distance; so one more unit of weight
//! always beats any saving in distance. The circulation is found by Goldberg's cost scaling with
//! push–relabel, whose running time does not grow with the number of matched requests the way one-path-at-a-
//! time methods do. Requests at the same place with the same weight, and doctors at the same place with the
//! same distance limit, are interchangeable: they are merged before solving (a commune holds many of them),
//! which shrinks the network several times at national scale, and split again afterwards.

use std::collections::{HashMap, VecDeque};

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

/// The distance allowed between a request and a doctor.
fn limit_km(doctor: &MatchDoctor, max_distance_km: f64) -> f64 {
    doctor
        .max_distance_km
        .map_or(max_distance_km, |own| own.min(max_distance_km))
}

/// Distances are compared in whole centimetres: exact integer arithmetic, and far below any real difference.
fn centimetres(km: f64) -> i64 {
    (km * 100_000.0).round() as i64
}

/// Requests (or doctors) that the objective cannot tell apart.
struct Group {
    position: (f64, f64),
    members: Vec<usize>,
}

struct RequestGroup {
    group: Group,
    weight: u32,
}

struct DoctorGroup {
    group: Group,
    limit_km: f64,
    capacity: i64,
}

fn place_key(position: (f64, f64)) -> (u64, u64) {
    (position.0.to_bits(), position.1.to_bits())
}

fn request_groups(requests: &[MatchRequest], merge: bool) -> Vec<RequestGroup> {
    let mut index: HashMap<((u64, u64), u32, usize), usize> = HashMap::new();
    let mut groups: Vec<RequestGroup> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let slot = *index
            .entry((
                place_key(request.position),
                request.weight,
                if merge { 0 } else { i },
            ))
            .or_insert_with(|| {
                groups.push(RequestGroup {
                    group: Group {
                        position: request.position,
                        members: Vec::new(),
                    },
                    weight: request.weight,
                });
                groups.len() - 1
            });
        groups[slot].group.members.push(i);
    }
    groups
}

fn doctor_groups(doctors: &[MatchDoctor], max_distance_km: f64, merge: bool) -> Vec<DoctorGroup> {
    let mut index: HashMap<((u64, u64), u64, usize), usize> = HashMap::new();
    let mut groups: Vec<DoctorGroup> = Vec::new();
    for (j, doctor) in doctors.iter().enumerate() {
        if doctor.capacity == 0 {
            continue;
        }
        let limit = limit_km(doctor, max_distance_km);
        let slot = *index
            .entry((
                place_key(doctor.position),
                limit.to_bits(),
                if merge { 0 } else { j },
            ))
            .or_insert_with(|| {
                groups.push(DoctorGroup {
                    group: Group {
                        position: doctor.position,
                        members: Vec::new(),
                    },
                    limit_km: limit,
                    capacity: 0,
                });
                groups.len() - 1
            });
        groups[slot].group.members.push(j);
        groups[slot].capacity += i64::from(doctor.capacity);
    }
    groups
}

/// Pairs (request group, doctor group, distance) within reach. Doctors are sorted by latitude: a great-circle
/// distance is never shorter than the difference in latitude, so only a band of latitudes needs the exact test.
fn pairs_in_reach(
    requests: &[RequestGroup],
    doctors: &[DoctorGroup],
    max_distance_km: f64,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Vec<(usize, usize, f64)> {
    let mut by_latitude: Vec<usize> = (0..doctors.len()).collect();
    by_latitude.sort_by(|a, b| {
        doctors[*a]
            .group
            .position
            .0
            .total_cmp(&doctors[*b].group.position.0)
    });
    let latitudes: Vec<f64> = by_latitude
        .iter()
        .map(|j| doctors[*j].group.position.0)
        .collect();
    let widest = doctors
        .iter()
        .map(|d| d.limit_km)
        .fold(0.0_f64, f64::max)
        .min(max_distance_km);
    let band_degrees = (widest / crate::territory::EARTH_RADIUS_KM).to_degrees() + 1e-9;
    let mut pairs = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let latitude = request.group.position.0;
        let first = latitudes.partition_point(|l| *l < latitude - band_degrees);
        let last = latitudes.partition_point(|l| *l <= latitude + band_degrees);
        for &j in &by_latitude[first..last] {
            let doctor = &doctors[j];
            let distance =
                crate::territory::distance_km(request.group.position, doctor.group.position);
            if distance <= doctor.limit_km
                && allowed(request.group.members[0], doctor.group.members[0])
            {
                pairs.push((i, j, distance));
            }
        }
    }
    pairs
}

/// A flow network whose arcs are stored node by node (each arc knows its reverse through `reverse`).
struct Network {
    first: Vec<usize>,
    head: Vec<usize>,
    reverse: Vec<usize>,
    residual: Vec<i64>,
    cost: Vec<i128>,
}

struct ArcSpec {
    from: usize,
    to: usize,
    capacity: i64,
    cost: i128,
}

impl Network {
    /// Builds the network; returns it with the position of each given arc.
    fn build(nodes: usize, arcs: &[ArcSpec]) -> (Self, Vec<usize>) {
        let mut degree = vec![0usize; nodes + 1];
        for arc in arcs {
            degree[arc.from + 1] += 1;
            degree[arc.to + 1] += 1;
        }
        for u in 0..nodes {
            degree[u + 1] += degree[u];
        }
        let first = degree.clone();
        let mut next = degree;
        let total = 2 * arcs.len();
        let mut network = Network {
            first,
            head: vec![0; total],
            reverse: vec![0; total],
            residual: vec![0; total],
            cost: vec![0; total],
        };
        let mut positions = Vec::with_capacity(arcs.len());
        for arc in arcs {
            let forward = next[arc.from];
            next[arc.from] += 1;
            let backward = next[arc.to];
            next[arc.to] += 1;
            network.head[forward] = arc.to;
            network.head[backward] = arc.from;
            network.reverse[forward] = backward;
            network.reverse[backward] = forward;
            network.residual[forward] = arc.capacity;
            network.cost[forward] = arc.cost;
            network.cost[backward] = -arc.cost;
            positions.push(forward);
        }
        (network, positions)
    }

    fn nodes(&self) -> usize {
        self.first.len() - 1
    }

    fn push(&mut self, arc: usize, amount: i64, excess: &mut [i64], from: usize) {
        self.residual[arc] -= amount;
        self.residual[self.reverse[arc]] += amount;
        excess[from] -= amount;
        excess[self.head[arc]] += amount;
    }

    /// Minimum-cost circulation by cost scaling (Goldberg 1997). Costs are multiplied by n + 1 so that the
    /// final 1-optimal circulation is (1/(n + 1))-optimal for the true costs, hence optimal since they are
    /// integers.
    fn minimum_cost_circulation(&mut self) {
        const SCALE_STEP: i128 = 8;
        let nodes = self.nodes();
        let factor = nodes as i128 + 1;
        for cost in self.cost.iter_mut() {
            *cost *= factor;
        }
        let mut epsilon = self.cost.iter().map(|c| c.abs()).max().unwrap_or(0);
        let mut price = vec![0i128; nodes];
        let mut excess = vec![0i64; nodes];
        while epsilon > 1 {
            epsilon = (epsilon / SCALE_STEP).max(1);
            self.refine(epsilon, &mut price, &mut excess);
        }
    }

    /// Turns an ε·α-optimal circulation into an ε-optimal one.
    fn refine(&mut self, epsilon: i128, price: &mut [i128], excess: &mut [i64]) {
        let nodes = self.nodes();
        for u in 0..nodes {
            for arc in self.first[u]..self.first[u + 1] {
                let amount = self.residual[arc];
                if amount > 0 && self.cost[arc] + price[u] - price[self.head[arc]] < 0 {
                    self.push(arc, amount, excess, u);
                }
            }
        }
        let mut active: VecDeque<usize> = (0..nodes).filter(|u| excess[*u] > 0).collect();
        let mut current = self.first[..nodes].to_vec();
        while let Some(u) = active.pop_front() {
            while excess[u] > 0 {
                if current[u] == self.first[u + 1] {
                    // Relabel: lower the price just enough for the best residual arc to become admissible.
                    let mut best = i128::MIN;
                    for arc in self.first[u]..self.first[u + 1] {
                        if self.residual[arc] > 0 {
                            best = best.max(price[self.head[arc]] - self.cost[arc]);
                        }
                    }
                    if best == i128::MIN {
                        // Cannot happen in a circulation (an excess always has a way back); stop rather than spin.
                        break;
                    }
                    price[u] = best - epsilon;
                    current[u] = self.first[u];
                    continue;
                }
                let arc = current[u];
                let to = self.head[arc];
                if self.residual[arc] > 0 && self.cost[arc] + price[u] - price[to] < 0 {
                    let amount = excess[u].min(self.residual[arc]);
                    let was_active = excess[to] > 0;
                    self.push(arc, amount, excess, u);
                    if !was_active && excess[to] > 0 {
                        active.push_back(to);
                    }
                } else {
                    current[u] += 1;
                }
            }
        }
    }
}

/// The optimal assignment (see the module documentation). Requests with no doctor in reach stay unassigned.
pub fn solve(requests: &[MatchRequest], doctors: &[MatchDoctor], max_distance_km: f64) -> Matching {
    solve_inner(requests, doctors, max_distance_km, true, &|_, _| true)
}

/// The same optimum when some pairs are ruled out beyond distance (a doctor's communes or age groups, a
/// proposal already declined): `allowed(request, doctor)` says which pairs may be matched. Requests and
/// doctors are then not merged, which suits a CPTS's few thousand requests.
pub fn solve_with(
    requests: &[MatchRequest],
    doctors: &[MatchDoctor],
    max_distance_km: f64,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Matching {
    solve_inner(requests, doctors, max_distance_km, false, allowed)
}

fn solve_inner(
    requests: &[MatchRequest],
    doctors: &[MatchDoctor],
    max_distance_km: f64,
    merge: bool,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Matching {
    let request_groups = request_groups(requests, merge);
    let doctor_groups = doctor_groups(doctors, max_distance_km, merge);
    let pairs = pairs_in_reach(&request_groups, &doctor_groups, max_distance_km, allowed);

    let (source, sink) = (0, 1);
    let request_node = |g: usize| 2 + g;
    let doctor_node = |g: usize| 2 + request_groups.len() + g;
    let nodes = 2 + request_groups.len() + doctor_groups.len();
    // One unit of weight must outweigh the longest total distance any solution could have.
    let mut longest = vec![0i64; request_groups.len()];
    for (g, _, distance) in &pairs {
        longest[*g] = longest[*g].max(centimetres(*distance));
    }
    let unit: i128 = 1 + request_groups
        .iter()
        .zip(&longest)
        .map(|(group, cm)| group.group.members.len() as i128 * i128::from(*cm))
        .sum::<i128>();
    let total_requests = requests.len() as i64;

    let mut arcs = Vec::with_capacity(pairs.len() + request_groups.len() + doctor_groups.len() + 1);
    for (g, group) in request_groups.iter().enumerate() {
        arcs.push(ArcSpec {
            from: source,
            to: request_node(g),
            capacity: group.group.members.len() as i64,
            cost: -i128::from(group.weight) * unit,
        });
    }
    let first_pair = arcs.len();
    for (g, d, distance) in &pairs {
        arcs.push(ArcSpec {
            from: request_node(*g),
            to: doctor_node(*d),
            capacity: request_groups[*g].group.members.len() as i64,
            cost: i128::from(centimetres(*distance)),
        });
    }
    for (d, group) in doctor_groups.iter().enumerate() {
        arcs.push(ArcSpec {
            from: doctor_node(d),
            to: sink,
            capacity: group.capacity,
            cost: 0,
        });
    }
    arcs.push(ArcSpec {
        from: sink,
        to: source,
        capacity: total_requests,
        cost: 0,
    });
    let (mut network, positions) = Network::build(nodes, &arcs);
    network.minimum_cost_circulation();

    // Split each group-to-group flow between the interchangeable requests and doctors.
    let mut waiting: Vec<std::slice::Iter<usize>> = request_groups
        .iter()
        .map(|g| g.group.members.iter())
        .collect();
    let mut room: Vec<Vec<(usize, u32)>> = doctor_groups
        .iter()
        .map(|g| {
            g.group
                .members
                .iter()
                .map(|j| (*j, doctors[*j].capacity))
                .collect()
        })
        .collect();
    let mut matching = Matching::default();
    let mut assigned = vec![false; requests.len()];
    for (k, (g, d, distance)) in pairs.iter().enumerate() {
        let arc = positions[first_pair + k];
        let flow = arcs[first_pair + k].capacity - network.residual[arc];
        for _ in 0..flow {
            let (Some(&i), Some(slot)) = (waiting[*g].next(), room[*d].last_mut()) else {
                break;
            };
            let j = slot.0;
            slot.1 -= 1;
            if slot.1 == 0 {
                room[*d].pop();
            }
            assigned[i] = true;
            matching.total_weight += u64::from(requests[i].weight);
            matching.total_distance_km += distance;
            matching.assignments.push(Assignment {
                request: i,
                doctor: j,
                distance_km: *distance,
            });
        }
    }
    matching.assignments.sort_by_key(|a| a.request);
    matching.unassigned = (0..requests.len()).filter(|i| !assigned[*i]).collect();
    matching
}

#[cfg(test)]
mod tests {
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
                        let edge =
                            graph.add_edge(request_node(i), doctor_node(j), 1, (0, centimetres));
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
            let d = crate::territory::distance_km(
                requests[a.request].position,
                doctors[a.doctor].position,
            );
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
}
