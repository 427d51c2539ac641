-- One association, one CPTS: a FINESS or a SIRET names at most one CPTS of a deployment.
CREATE UNIQUE INDEX cpts_unique_finess ON cpts(finess) WHERE finess IS NOT NULL;
CREATE UNIQUE INDEX cpts_unique_siret ON cpts(siret) WHERE siret IS NOT NULL;
