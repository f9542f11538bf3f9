# Páginas web de Tracemark: español.

## Estructura
skip-to-content = Ir al contenido principal
nav-label = Navegación principal
nav-dashboard = Panel
nav-search = Búsqueda
nav-record = Registrar
nav-traces = Rastreos
nav-admin = Administración
sign-out = Cerrar sesión
signed-in-as = Sesión de { $name } ({ $agency })
language-label = Idioma
language-apply = Cambiar

## Inicio de sesión
sign-in-title = Iniciar sesión
sign-in-submit = Iniciar sesión
field-account = Nombre de cuenta
field-password = Contraseña
field-totp = Código de autenticación
field-totp-hint = El código de 6 dígitos de su aplicación de autenticación, si su cuenta tiene una.
form-errors-title = Hay un problema
error-account-required = Escriba el nombre de su cuenta.
error-password-required = Escriba su contraseña.
error-bad-credentials = El nombre de cuenta o la contraseña no son correctos. Compruebe ambos y vuelva a intentarlo.
error-totp-required = Su función exige el código de 6 dígitos de su aplicación de autenticación.
error-totp-wrong = Este código no es correcto. Escriba el código que muestra ahora su aplicación.
error-totp-replayed = Este código ya se ha usado. Espere al siguiente código y escríbalo.
error-locked = Esta cuenta está bloqueada tras varios intentos fallidos. Vuelva a intentarlo dentro de { $minutes ->
    [one] { $minutes } minuto
   *[other] { $minutes } minutos
}.
error-enrolment-required = Su función exige un segundo factor y su cuenta aún no lo tiene. Pida a un administrador que lo registre.
error-csrf = Este formulario ha caducado o no procede de este sitio. Recargue la página y vuelva a intentarlo.

## Búsqueda
search-title = Buscar en el registro
search-label = Marcaje o número de serie
search-hint = Escríbalo tal como lo lee, en cualquier escritura. Use ? para un carácter ilegible y * para cualquier serie de caracteres.
search-submit = Buscar
search-total = { $count ->
    [0] Ningún arma coincide.
    [one] Una coincidencia.
   *[other] { $count } coincidencias.
}
search-distance = { $count ->
    [one] difiere un carácter
   *[other] difieren { $count } caracteres
}
col-marking = Marcaje
col-item = Arma
col-description = Marca, modelo, calibre
col-status = Situación
match-exact = Coincidencias exactas
match-exact-reason = El marcaje se lee exactamente como lo escribió (sin contar espacios, guiones ni mayúsculas).
match-normalized = Mismo marcaje en otra escritura
match-normalized-reason = Es igual una vez igualadas las letras parecidas de otras escrituras y las confusiones habituales, por ejemplo la Р cirílica leída como P latina, o la O leída como 0.
match-wildcard = Coincidencias del patrón
match-wildcard-reason = El marcaje encaja en el patrón: ? equivale a un carácter, * a cualquier serie.
match-fuzzy = Coincidencias cercanas
match-fuzzy-reason = El marcaje difiere en uno o dos caracteres: una mala lectura, un carácter que falta o que sobra.
alert-missing = Atención: { $event }. Contacte con { $contact }.
alert-contact-agency = el organismo que lo notificó, { $agency }
alert-contact-poc = el punto de contacto nacional
error-search-query = Esta búsqueda no se puede realizar. Compruebe el marcaje: necesita al menos una letra o un dígito.

## Arma
item-title = Arma
item-identification = Identificación
item-kind = Categoría
item-type = Tipo
item-make = Marca
item-model = Modelo
item-calibre = Calibre
item-country = País de fabricación
item-year = Año de fabricación
item-national-id = Identificador nacional
item-status = Situación
item-holder = Poseedor actual
item-markings = Marcajes
marking-kind = Clase
marking-as-seen = Tal como se lee
marking-normalized = Normalizado
marking-visual = Clave de búsqueda
marking-component = Pieza
marking-legibility = Legibilidad
custody-title = Cadena de custodia
custody-purpose-label = Motivo de la consulta
custody-purpose-hint = La cadena de custodia nombra a los poseedores. Indique por qué la necesita (por ejemplo, un número de expediente); queda registrado.
custody-show = Mostrar la cadena de custodia
custody-empty = No hay ningún evento registrado para esta arma.
custody-void = corregido
custody-from = De
custody-to = A
custody-place = Lugar
custody-status-after = Situación posterior
custody-ledger = Entrada del registro { $index }
custody-diversion-reported = Se perdió el control el { $date } (notificado).
custody-diversion-seized = Incautada el { $date } sin notificación previa de pérdida o robo.
error-purpose-invalid = El motivo debe tener como máximo { $max } caracteres imprimibles.

## Errores
error-title = Algo ha fallado
error-forbidden = No puede ver esto: su función u organismo no le da acceso.
error-not-found = No existe esa página ni esa arma.
error-unavailable = La base de datos del registro no responde. Vuelva a intentarlo en un momento.
error-internal = El servidor ha fallado. Avise a su administrador.
error-bad-request = Esta solicitud no se puede atender.
error-reference = Referencia para su administrador: { $id }
error-home = Ir a la página de inicio

## Fechas
date-day = { $day } de { $month } de { $year }
date-month = { $month } de { $year }
month-1 = enero
month-2 = febrero
month-3 = marzo
month-4 = abril
month-5 = mayo
month-6 = junio
month-7 = julio
month-8 = agosto
month-9 = septiembre
month-10 = octubre
month-11 = noviembre
month-12 = diciembre

## Situación de un arma
status-recorded = registrada
status-in-stock = en depósito
status-in-service = en servicio
status-civilian-held = en poder de un civil
status-exported = exportada
status-lost = perdida
status-stolen = robada
status-recovered = recuperada
status-seized = incautada
status-surrendered = entregada voluntariamente
status-deactivated = inutilizada
status-destroyed = destruida

## Eventos de la cadena de custodia
event-manufactured = Fabricación
event-imported = Importación
event-exported = Exportación
event-transferred = Transferencia
event-assigned = Asignación
event-returned = Devolución
event-reported-lost = Denuncia de pérdida
event-reported-stolen = Denuncia de robo
event-recovered = Recuperación
event-seized = Incautación
event-surrendered = Entrega voluntaria
event-marked = Marcaje
event-component-replaced = Sustitución de una pieza
event-converted = Transformación
event-deactivated = Inutilización
event-destroyed = Destrucción
event-corrected = Corrección

## Clases de marcaje
mark-serial = número de serie
mark-manufacturer = fabricante
mark-country = país
mark-year = año
mark-model = modelo
mark-calibre = calibre
mark-import = marcaje de importación
mark-proof = marca de prueba
mark-factory-code = código de fábrica
mark-secondary = marcaje secundario
mark-state-ownership = propiedad del Estado
mark-lot = número de lote
mark-headstamp = marcaje del culote
mark-code-2d = código 2D
mark-rfid = etiqueta RFID
mark-covert = marcaje oculto
mark-other = otro

## Legibilidad
legibility-clear = legible
legibility-partial = parcialmente legible
legibility-obliterated = borrado
legibility-restored = restaurado
