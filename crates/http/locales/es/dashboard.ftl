# Tracemark web pages (es): the dashboard area. Same keys in every language (tests/web.rs).
dash-title = Panel
dash-overdue-title = Rastreos con plazo vencido
dash-overdue-count = { $count ->
    [0] Ningún plazo ha vencido.
    [one] Ha vencido un plazo.
   *[other] Han vencido { $n } plazos.
}
dash-overdue-empty = Ningún plazo ha vencido. Buen trabajo.
dash-overdue-what = { $obligation } pendiente de { $state }
dash-due = vence
dash-traces-title = Rastreos abiertos
dash-traces-count = { $count ->
    [0] No hay ningún rastreo abierto.
    [one] Hay un rastreo abierto.
   *[other] Hay { $n } rastreos abiertos.
}
dash-traces-empty = No hay ningún rastreo abierto en este momento. Puede iniciar una nueva solicitud cuando quiera.
dash-trace-state = { $role }, { $status }
dash-traces-all = Todos los rastreos
dash-hits-title = Coincidencias con artículos que su organismo declaró perdidos o robados
dash-hits-empty = Nadie ha encontrado un artículo que su organismo declarara perdido o robado. Lo verá aquí cuando ocurra.
dash-hit-search = encontrado en una búsqueda de { $agency }
dash-hit-seizure = registrado como incautado o recuperado por { $agency }
dash-imports-title = Importaciones recientes
dash-imports-empty = Todavía no se ha registrado nada en el registro.
dash-import-summary = { $count ->
    [one] Un registro
   *[other] { $n } registros
} (entradas { $first } a { $last } del libro)
dash-nothing = Bienvenido. Use el menú de arriba para buscar en el registro.
