Mia tiene 3 cajas con 12 lápices en cada una. Le da 9 lápices a su hermano. ¿Cuántos lápices le quedan?
Un autobús lleva 45 personas. En la primera parada bajan 18 personas y suben 7. ¿Cuántas personas hay ahora en el autobús?
Tom lee 15 páginas cada día. ¿Cuántas páginas lee en dos semanas?
Un panadero hace 120 panecillos y vende tres cuartas partes. ¿Cuántos panecillos quedan?
Sara compra 4 cuadernos a 3 dólares cada uno y un bolígrafo por 2 dólares. ¿Cuánto gasta?
Un huerto tiene 8 filas de tomateras con 9 plantas en cada fila. ¿Cuántas tomateras hay?
Leo tiene 7 años. Su madre tiene cuatro veces su edad. ¿Cuántos años tendrá su madre dentro de 5 años?
Un tren viaja a 60 kilómetros por hora. ¿Qué distancia recorre en 3,5 horas?
En una clase hay 30 alumnos y el 40 % de ellos usa gafas. ¿Cuántos alumnos usan gafas?
Anna ahorra 25 dólares al mes. ¿Cuántos meses necesita para ahorrar 300 dólares?
Un granjero tiene 52 gallinas y vende 17. Después compra 9 más. ¿Cuántas gallinas tiene?
Una cuerda mide 18 metros. Se corta en trozos de 1,5 metros. ¿Cuántos trozos hay?
