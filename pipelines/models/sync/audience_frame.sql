-- The audience as the data tests read it: the address as rules compare it, then each declared property
-- under its declared name (the engine names p_0..p_n), in the view's order.
select email, p_0 as p_0
from _aud
order by row_no
